"""The policies package's front door: load, check and compile in one call."""

from dataclasses import dataclass
from pathlib import Path

from models.org import Org
from policies.language.compiled import CompiledPolicy
from policies.language.compiler import compile_policy
from policies.language.loader import LoadedPolicy, load_org, load_policy
from policies.language.scenario import Scenario, load_scenario


@dataclass(frozen=True)
class Ready:
    """A checked, compiled policy with the org directory it runs against."""

    loaded: LoadedPolicy
    policy: CompiledPolicy
    org: Org


def prepare(path: Path, *, org_path: Path | None = None, templates: Path | None = None) -> Ready:
    """Load and compile ``path``; ``org_path`` overrides the org directory the policy names."""
    loaded = load_policy(path, templates=templates)
    org = load_org(org_path) if org_path is not None else loaded.org
    return Ready(loaded, compile_policy(loaded.spec), org)


def prepare_scenario(path: Path) -> tuple[Scenario, Ready]:
    scenario = load_scenario(path)
    return scenario, prepare(scenario.policy_path, org_path=scenario.org_path)
