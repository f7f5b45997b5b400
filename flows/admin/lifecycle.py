"""Checking a policy an administrator uploads (or names on the server) before it can be activated.

An upload is checked exactly as ``complaintflow policy check`` checks a file, as if it were saved in
the policies folder under its name: its ``org:`` resolves from there (or to the org YAML uploaded with
it), and its email templates are checked against the runtime's template folder. The texts are copied
into a private temporary folder that mirrors the policies folder, so nothing uploaded ever lands
beside the real files, and every ``file:line:col`` problem names the uploaded file, never the copy.
Uploads are bounded in size, parsed as plain YAML data and never executed.
"""

import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.admin.accounts import Role, find_account
from flows.errors import RuntimeProblem
from flows.registry import Pinned, PolicyRegistry, Sources, latest_activation
from models.tables import PolicyActivationRow, PolicyVersionRow
from policies.api import Ready, prepare
from policies.errors import PolicyInvalid, Problem
from policies.language.source import parse_located

MAX_SOURCE_BYTES = 256 * 1024  # the largest shipped policy is 11 KB
_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Candidate:
    """A policy not yet active: its name (relative to the policies folder), its text, maybe an org."""

    name: str
    text: str
    org_name: str | None = None
    org_text: str | None = None


@dataclass(frozen=True)
class Checked:
    """A candidate that passed every check, compiled, with the texts it would be recorded with."""

    candidate: Candidate
    ready: Ready
    sources: Sources
    new_org: bool  # an org was uploaded with it: the dry run uses it instead of each complaint's own


def upload_name(filename: str | None, default: str = "uploaded.yaml") -> str:
    """A safe display and file name for an upload: its last path segment, never a path."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()[:100]
    if not name or name in {".", ".."}:
        return default
    return name if PurePosixPath(name).suffix in _SUFFIXES else name + ".yaml"


def decode_upload(name: str, data: bytes) -> str:
    """An uploaded file's text (UTF-8, line ends normalised), or PolicyInvalid naming the upload."""
    if len(data) > MAX_SOURCE_BYTES:
        raise PolicyInvalid([_too_big(name)])
    try:
        return normalise(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise PolicyInvalid([Problem(name, 1, 1, "file is not UTF-8; save the file as UTF-8")]) from exc


def normalise(text: str) -> str:
    # Browsers send form text with CRLF line ends; the stored source keeps the file's LF ones.
    return text.replace("\r\n", "\n")


def read_server_file(policies_dir: Path, relative: str) -> Candidate:
    """The candidate in a file under the policies folder; anything outside it is refused."""
    root = policies_dir.resolve()
    shown = relative.strip() or "?"
    path = (root / relative.strip()).resolve()
    if not path.is_relative_to(root) or path.suffix not in _SUFFIXES:
        raise PolicyInvalid([Problem(shown, 1, 1, "name a .yaml file inside the policies folder")])
    if not path.is_file():
        raise PolicyInvalid([Problem(shown, 1, 1, "no such file in the policies folder")])
    if path.stat().st_size > MAX_SOURCE_BYTES:
        raise PolicyInvalid([_too_big(shown)])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyInvalid([Problem(shown, 1, 1, "file is not UTF-8; save the file as UTF-8")]) from exc
    return Candidate(name=path.relative_to(root).as_posix(), text=text)


def check_candidate(candidate: Candidate, policies_dir: Path, templates: Path | None) -> Checked:
    """Load, check and compile the candidate; raise PolicyInvalid listing every located problem."""
    root = policies_dir.resolve()
    name = candidate.name
    if not _inside(root, name):
        message = "the policy name must be a .yaml file inside the policies folder"
        raise PolicyInvalid([Problem(name, 1, 1, message)])
    for text, shown in ((candidate.text, name), (candidate.org_text, candidate.org_name or "org")):
        if text is not None and len(text.encode("utf-8", "replace")) > MAX_SOURCE_BYTES:
            raise PolicyInvalid([_too_big(shown)])
    org_rel = _org_target(candidate, root)
    with tempfile.TemporaryDirectory(prefix="complaintflow-candidate-") as folder:
        copy = Path(folder).resolve()
        policy_file = copy / name
        policy_file.parent.mkdir(parents=True, exist_ok=True)
        policy_file.write_text(candidate.text, encoding="utf-8")
        org_text = _place_org(candidate, root, copy, org_rel)
        try:
            ready = prepare(policy_file, templates=templates)
        except PolicyInvalid as exc:
            org_shown = candidate.org_name if candidate.org_text is not None else org_rel
            raise PolicyInvalid([_renamed(p, copy, org_rel, org_shown) for p in exc.problems]) from exc
    return Checked(candidate, ready, Sources(candidate.text, org_text), candidate.org_text is not None)


def activate_checked(registry: PolicyRegistry, checked: Checked, username: str) -> Pinned:
    """Make a checked candidate the policy new complaints start under, recorded as ``username``'s."""
    return registry.activate_ready(checked.ready, checked.sources, by=username)


@dataclass(frozen=True)
class Activation:
    """One row of the activation history, with the policy's id and name."""

    seq: int
    version: str
    policy_id: str
    policy_name: str
    activated_by: str
    activated_at: datetime


@dataclass(frozen=True)
class ActiveVersion:
    """What new complaints start under now, with the source text it was activated from."""

    pinned: Pinned
    source: str
    activation: Activation


def activation_history(session: Session, limit: int = 100) -> list[Activation]:
    """The latest activations, newest first."""
    query = (
        select(PolicyActivationRow, PolicyVersionRow.policy_id, PolicyVersionRow.name)
        .join(PolicyVersionRow, PolicyVersionRow.version == PolicyActivationRow.version)
        .order_by(PolicyActivationRow.seq.desc())
        .limit(limit)
    )
    return [
        Activation(row.seq, row.version, policy_id, name, row.activated_by, row.activated_at)
        for row, policy_id, name in session.execute(query).tuples()
    ]


def active_version(session: Session, registry: PolicyRegistry) -> ActiveVersion | None:
    """The latest activation in the database, compiled, or None before the first."""
    row = latest_activation(session)
    if row is None:
        return None
    (activation,) = activation_history(session, limit=1)
    return ActiveVersion(registry.pinned(session, row.version, row.org_hash), row.source, activation)


def admin_username(session: Session, username: str) -> str:
    """``username`` if it names an active admin account; the CLI's ``--by`` must be one."""
    row = find_account(session, username)
    if row is None or not row.active or row.role != Role.ADMIN:
        raise RuntimeProblem(f"{username!r} is not an active admin account")
    return row.username


def _inside(root: Path, relative: str) -> bool:
    pure = PurePosixPath(relative)
    if not relative or pure.is_absolute() or ".." in pure.parts or pure.suffix not in _SUFFIXES:
        return False
    return (root / pure).resolve().is_relative_to(root)


def _org_target(candidate: Candidate, root: Path) -> str | None:
    """Where the candidate's ``org:`` points, relative to the policies folder; refused if outside it.

    None when the text has no usable ``org:`` (the loader then reports it at its line).
    """
    try:
        located = parse_located(candidate.text, candidate.name)
    except PolicyInvalid:
        return None  # not YAML: the loader reports where
    value = located.data.get("org") if isinstance(located.data, dict) else None
    if not isinstance(value, str) or not value.strip():
        return None
    target = ((root / candidate.name).parent / value).resolve()
    if not target.is_relative_to(root) or target == root:
        message = f"org {value!r} must name a file inside the policies folder"
        raise PolicyInvalid([located.problem(("org",), message)])
    return target.relative_to(root).as_posix()


def _place_org(candidate: Candidate, root: Path, copy: Path, org_rel: str | None) -> str | None:
    """Put the org the candidate will be checked with into the copy; return its text."""
    if org_rel is None:
        return candidate.org_text
    target = copy / org_rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if candidate.org_text is not None:
        target.write_text(candidate.org_text, encoding="utf-8")
        return candidate.org_text
    original = root / org_rel
    if not original.is_file() or original.stat().st_size > MAX_SOURCE_BYTES:
        return None  # missing (or absurd): the loader reports it at the policy's org: line
    shutil.copyfile(original, target)
    return original.read_text(encoding="utf-8-sig", errors="replace")


def _renamed(problem: Problem, copy: Path, org_rel: str | None, org_shown: str | None) -> Problem:
    """The problem as the administrator should read it: named after their files, not the copy's."""

    def rename(text: str) -> str:
        if org_rel is not None and org_shown is not None:
            text = text.replace(f"{copy}/{org_rel}", org_shown)
        return text.replace(f"{copy}/", "")

    return Problem(rename(problem.file), problem.line, problem.col, rename(problem.message))


def _too_big(shown: str) -> Problem:
    return Problem(shown, 1, 1, f"file is larger than the {MAX_SOURCE_BYTES} bytes allowed for a policy")
