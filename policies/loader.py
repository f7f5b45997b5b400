"""Loading policy and org files into validated models, reporting every problem at once."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from models.org import Org
from policies.checks import CheckContext, run_checks
from policies.errors import PolicyInvalid, Problem
from policies.org_checks import check_org
from policies.schema import PenaltySpec, PolicySpec, StepSpec
from policies.source import Located, load_located
from policies.validation import validate_located


@dataclass(frozen=True)
class LoadedPolicy:
    spec: PolicySpec
    org: Org
    path: Path
    org_path: Path


def load_org(path: Path) -> Org:
    """Load and check an org directory; raise PolicyInvalid listing every problem."""
    org, problems = _org(path, str(path))
    if problems or org is None:
        raise PolicyInvalid(problems)
    return org


def load_policy(path: Path, *, templates: Path | None = None) -> LoadedPolicy:
    """Load a policy and the org directory it names; raise PolicyInvalid listing every problem.

    ``templates`` (or the policy's own ``templates:`` folder) enables the template existence check.
    """
    located = load_located(path, display_path(path))
    if not isinstance(located.data, dict):
        raise PolicyInvalid([located.problem((), "a policy must be a mapping of keys to values")])
    spec, problems = validate_located(PolicySpec, located.data, located)
    step_index = tuple(range(len(spec.steps))) if spec else ()
    if spec is None:
        spec, step_index = _partial(located)
    org: Org | None = None
    org_path = path.parent / str(located.data.get("org", ""))
    if isinstance(located.data.get("org"), str):
        if org_path.is_file():
            org, org_problems = _org(org_path, display_path(org_path))
            problems += org_problems
        else:
            problems.append(located.problem(("org",), f"org directory {org_path} does not exist"))
    if spec is not None:
        folder = templates or (path.parent / spec.templates if spec.templates else None)
        ctx = CheckContext(spec, org, display_path(org_path), step_index, folder)
        problems += [located.problem(p, message) for p, message in run_checks(ctx)]
    if problems or spec is None or org is None:
        raise PolicyInvalid(problems)
    return LoadedPolicy(spec, org, path, org_path)


def _partial(located: Located) -> tuple[PolicySpec | None, tuple[int, ...]]:
    """The policy with its broken steps left out, so reference checks still run on the rest."""
    data: dict[str, Any] = dict(located.data)
    steps = data.get("steps")
    if not isinstance(steps, list):
        return None, ()
    good = [i for i, s in enumerate(steps) if _valid(StepSpec, s)]
    penalties = data.get("penalties")
    if isinstance(penalties, dict):
        data["penalties"] = {k: v for k, v in penalties.items() if _valid(PenaltySpec, v)}
    data["steps"] = [steps[i] for i in good]
    try:
        return PolicySpec.model_validate(data), tuple(good)
    except ValueError:
        return None, ()


def _valid(model: type[BaseModel], data: Any) -> bool:
    try:
        model.model_validate(data)
    except ValueError:
        return False
    return True


def _org(path: Path, display: str) -> tuple[Org | None, list[Problem]]:
    located = load_located(path, display)
    if not isinstance(located.data, dict):
        return None, [located.problem((), "an org directory must be a mapping of keys to values")]
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
