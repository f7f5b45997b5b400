"""Loading policy and org files into validated models, reporting every problem at once."""

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from models.org import Org
from policies.errors import PolicyInvalid, Problem
from policies.language.checks import CheckContext, run_checks
from policies.language.org_checks import check_org
from policies.language.schema import PenaltySpec, PolicySpec, StepSpec
from policies.language.source import Located, load_located
from policies.language.validation import describe, validate_located
from policies.language.warnings import policy_warnings

# Stand-ins for required top-level values that failed validation, so that the checks can still run
# on the rest of the policy; checks skip whatever ``CheckContext.broken`` names.
_STAND_INS: dict[str, Any] = {
    "id": "unnamed",
    "name": "unnamed",
    "language": "en",
    "timezone": "UTC",
    "org": "",
    "owner": "first_hearer",
    "steps": [],
}
_MAX_PASSES = 8


@dataclass(frozen=True)
class LoadedPolicy:
    spec: PolicySpec
    org: Org
    path: Path
    org_path: Path
    # ``file:line:col: warning: …`` for what is valid but probably not meant; never a failure.
    warnings: tuple[Problem, ...] = ()


def load_org(path: Path) -> Org:
    """Load and check an org directory; raise PolicyInvalid listing every problem."""
    org, problems = _org(path, display_path(path))
    if problems or org is None:
        raise PolicyInvalid(problems)
    return org


def load_policy(path: Path, *, templates: Path | None = None) -> LoadedPolicy:
    """Load a policy and the org directory it names; raise PolicyInvalid listing every problem.

    ``templates`` (or the policy's own ``templates:`` folder) enables the template existence check.
    """
    located = load_located(path, display_path(path))
    if not isinstance(located.data, dict):
        shape = "a policy must be a mapping of keys to values (id:, name:, steps: ...)"
        raise PolicyInvalid([located.problem((), f"{shape}, not {describe(located.data)}")])
    spec, problems = validate_located(PolicySpec, located.data, located)
    org, org_path, org_problems = _policy_org(path, located)
    problems += org_problems
    org_file = display_path(org_path)
    ctx: CheckContext | None
    if spec is not None:
        ctx = CheckContext(spec, org, org_file, tuple(range(len(spec.steps))), None)
    else:
        ctx = _partial(located, org, org_file)
    if ctx is not None:
        folder = templates
        if folder is None and ctx.spec.templates and "templates" not in ctx.broken:
            folder = path.parent / ctx.spec.templates
        ctx = replace(ctx, templates=folder)
        problems += [located.problem(p, message) for p, message in run_checks(ctx)]
    if problems or spec is None or org is None:
        raise PolicyInvalid(problems)
    warnings = sorted(located.problem(p, message) for p, message in policy_warnings(spec, org))
    return LoadedPolicy(spec, org, path, org_path, tuple(warnings))


def _policy_org(path: Path, located: Located) -> tuple[Org | None, Path, list[Problem]]:
    """The org directory the policy names (relative to the policy file), or why it cannot be used."""
    name = located.data.get("org")
    org_path = path.parent / str(name or "")
    if not isinstance(name, str) or not name:
        return None, org_path, []  # validation reports a missing or malformed org:
    if org_path.is_dir():
        message = f"org {name!r} is a folder ({display_path(org_path)}): name the org YAML file"
        return None, org_path, [located.problem(("org",), message)]
    if not org_path.is_file():
        message = (
            f"org directory {display_path(org_path)} does not exist (org: is relative to the policy file)"
        )
        return None, org_path, [located.problem(("org",), message)]
    try:
        org, problems = _org(org_path, display_path(org_path))
    except PolicyInvalid as exc:
        return None, org_path, list(exc.problems)
    return org, org_path, problems


def _partial(located: Located, org: Org | None, org_file: str) -> CheckContext | None:
    """The policy without its broken parts, so that the checks still run on the rest.

    Broken steps and penalties are left out; broken top-level values are dropped or, when required,
    replaced by a stand-in that the checks know to skip.
    """
    data: dict[str, Any] = dict(located.data)
    raw_steps = data.get("steps")
    step_list = raw_steps if isinstance(raw_steps, list) else []
    good = [i for i, s in enumerate(step_list) if _valid(StepSpec, s)]
    step_ids = frozenset(s["id"] for s in step_list if isinstance(s, dict) and isinstance(s.get("id"), str))
    penalties = data.get("penalties")
    penalty_keys = frozenset(penalties) if isinstance(penalties, dict) else frozenset()
    if isinstance(penalties, dict):
        data["penalties"] = {k: v for k, v in penalties.items() if _valid(PenaltySpec, v)}
    steps = [step_list[i] for i in good]
    data["steps"] = steps or [_STAND_IN_STEP]
    broken: set[str] = set()
    for _ in range(_MAX_PASSES):
        try:
            spec = PolicySpec.model_validate(data)
        except ValidationError as exc:
            keys = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
            if not keys - broken - {"steps"}:
                return None
            for key in keys - {"steps"}:
                broken.add(key)
                if key in _STAND_INS:
                    data[key] = _STAND_INS[key]
                else:
                    data.pop(key, None)
            continue
        if not steps:
            spec = spec.model_copy(update={"steps": []})
        return CheckContext(spec, org, org_file, tuple(good), None, step_ids, penalty_keys, frozenset(broken))
    return None


_STAND_IN_STEP = {"id": "x", "title": "x", "actor": "first_hearer", "from": "heard", "within": "1h"}


def _valid(model: type[BaseModel], data: Any) -> bool:
    try:
        model.model_validate(data)
    except ValidationError:
        return False
    return True


def _org(path: Path, display: str) -> tuple[Org | None, list[Problem]]:
    located = load_located(path, display)
    if not isinstance(located.data, dict):
        shape = "an org directory must be a mapping of keys to values (id:, name:, people: ...)"
        return None, [located.problem((), f"{shape}, not {describe(located.data)}")]
    org, problems = validate_located(Org, located.data, located)
    if org is not None:
        problems += [located.problem(p, m) for p, m in check_org(org)]
    return (org if not problems else None), problems


def display_path(path: Path) -> str:
    """The path as the user would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
