"""Properties of random valid policies (tests/strategies.py) and random histories for them.

- every generated policy passes ``complaintflow policy check`` (the generator is honest);
- compiling is deterministic: the same document gives the same version however it is written, and
  the copy the runtime stores and recompiles keeps that version; any real change gives a new one;
- the engine never raises on random events, at any moment, and stepping through its wake-ups
  (``simulate``) finds what one call at the end finds;
- ``simulate`` does not depend on the order of events that share an instant.

The fixed-policy properties of tests/policies/engine/test_decide_properties.py are not repeated here.
"""

import io
import json
import random
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from typer.testing import CliRunner

from app.cli.main import app
from policies.api import prepare
from policies.engine.decide import decide
from policies.engine.simulate import simulate
from policies.language.compiled import CompiledPolicy
from policies.language.compiler import compile_policy
from policies.language.schema import PolicySpec
from tests.strategies import GeneratedPolicy, histories, policies

FUZZ = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _folder(root: Path) -> Path:
    """A fresh folder per example: ``tmp_path`` is shared by all examples of one test."""
    folder = root / f"example-{len(list(root.iterdir()))}"
    folder.mkdir()
    return folder


@FUZZ
@given(generated=policies())
def test_every_generated_policy_passes_policy_check(tmp_path: Path, generated: GeneratedPolicy) -> None:
    path = generated.write(_folder(tmp_path))
    result = CliRunner().invoke(app, ["policy", "check", str(path)])
    assert result.exit_code == 0, f"{result.output}\n{generated.text}"
    policy, _ = generated.compiled
    steps = len(generated.document["steps"])
    assert f": ok: policy fuzz-policy {policy.version}, {steps} steps, org fuzz-org " in result.output


def _restyled(document: dict[str, Any], order: random.Random) -> str:
    """The same document written differently: keys shuffled, other indentation, some text quoted,
    a comment on top. (Block style only: ruamel's parser refuses some plain scalars that its own
    emitter writes in flow style, such as ``{title: ?=x}``.)"""

    def restyle(node: Any) -> Any:
        if isinstance(node, dict):
            keys = list(node)
            order.shuffle(keys)
            return {k: restyle(node[k]) for k in keys}
        if isinstance(node, list):
            return [restyle(v) for v in node]
        if isinstance(node, str) and order.random() < 0.5:
            return DoubleQuotedScalarString(node)
        return node

    yaml = YAML()
    yaml.indent(mapping=4, sequence=6, offset=3)
    yaml.width = 60
    out = io.StringIO()
    yaml.dump(restyle(document), out)
    return "# the same policy, written another way\n" + out.getvalue()


def _stored_and_recompiled(policy: PolicySpec) -> CompiledPolicy:
    """What the runtime's registry does: store the canonical JSON, later rebuild the policy from it."""
    stored = json.dumps(policy.model_dump(mode="json", by_alias=True), sort_keys=True, ensure_ascii=False)
    return compile_policy(PolicySpec.model_validate(json.loads(stored)))


@FUZZ
@given(generated=policies(), seed=st.randoms(use_true_random=False))
def test_the_version_depends_on_the_content_only(
    tmp_path: Path, generated: GeneratedPolicy, seed: random.Random
) -> None:
    folder = _folder(tmp_path)
    generated.write(folder)
    policy, _ = generated.compiled
    restyled = folder / "restyled.yaml"
    restyled.write_text(_restyled(generated.document, seed), encoding="utf-8")
    loaded = prepare(restyled)
    assert loaded.policy.version == policy.version
    assert _stored_and_recompiled(loaded.loaded.spec).version == policy.version
    changed = dict(generated.document, steps=[dict(s) for s in generated.document["steps"]])
    changed["steps"][-1]["within"] = "13h"
    assert GeneratedPolicy(changed, generated.org).compiled[0].version != policy.version


@FUZZ
@given(data=st.data())
def test_the_engine_never_raises_and_simulate_finds_what_one_call_finds(data: st.DataObject) -> None:
    generated = data.draw(policies(), label="policy")
    history = data.draw(histories(generated), label="history")
    policy, org = generated.compiled
    for moment in sorted({e.at for e in history.events} | {history.until}):
        decide(policy, org, history.events, moment)
    stepped = simulate(policy, org, history.events, history.until)
    once = decide(policy, org, history.events, history.until)
    assert {n.key for n in stepped.notifications} == {n.key for n in once.notifications}
    assert {d.violation.key: d.violation for d in stepped.violations} == {v.key: v for v in once.violations}
    event_times = {e.at for e in history.events}
    for detected in stepped.violations:
        # Found at its due time, or, when an event reveals it already past due (a complaint received
        # after the deadline it starts), at that event.
        assert detected.detected_at >= detected.violation.due_at
        assert detected.detected_at == detected.violation.due_at or detected.detected_at in event_times
    assert {o.key for o in once.obligations} >= {v.key for v in once.violations}


def _same_instant_shuffled(events: list[Any], order: random.Random) -> list[Any]:
    """The events in time order, each group of simultaneous events in a random order."""
    groups: dict[datetime, list[Any]] = {}
    for event in events:
        groups.setdefault(event.at, []).append(event)
    result: list[Any] = []
    for moment in sorted(groups):
        group = groups[moment]
        order.shuffle(group)
        result.extend(group)
    return result


@FUZZ
@given(data=st.data(), seed=st.randoms(use_true_random=False))
def test_simulate_does_not_depend_on_the_order_of_simultaneous_events(
    data: st.DataObject, seed: random.Random
) -> None:
    generated = data.draw(policies(), label="policy")
    history = data.draw(histories(generated), label="history")
    policy, org = generated.compiled
    expected = simulate(policy, org, history.events, history.until).to_json()
    for _ in range(2):
        shuffled = _same_instant_shuffled(history.events, seed)
        assert simulate(policy, org, shuffled, history.until).to_json() == expected


def test_the_generators_reach_every_outcome() -> None:
    """Guard against vacuous generators: over a fixed sample, the histories produce violations,
    met, late, cancelled and handed-over obligations, simultaneous events, and every notification."""
    seen: Counter[str] = Counter()

    @settings(max_examples=120, deadline=None, derandomize=True, database=None)
    @given(data=st.data())
    def sample(data: st.DataObject) -> None:
        generated = data.draw(policies())
        history = data.draw(histories(generated))
        policy, org = generated.compiled
        result = simulate(policy, org, history.events, history.until)
        seen.update(o.status.value for o in result.obligations)
        seen.update(n.kind.value for n in result.notifications)
        seen["violation"] += len(result.violations)
        seen["penalty"] += sum(1 for d in result.violations if d.violation.penalty)
        times = [(e.complaint, e.at) for e in history.events]
        seen["simultaneous"] += len(times) - len(set(times))

    sample()
    wanted = ["met", "late", "overdue", "cancelled", "handed_over", "open", "violation", "penalty"]
    wanted += ["request", "reminder", "escalation", "receipt", "simultaneous"]
    assert {name: seen[name] for name in wanted if not seen[name]} == {}
