"""Exception root of the policies package and the located ``file:line:col: message`` problem."""

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a policy, org or scenario file, located for the editor (1-based)."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class PolicyError(Exception):
    """Root of every error raised by the policy language and engine."""


class PolicyInvalid(PolicyError):
    """A file failed to load; carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ExpressionError(PolicyError):
    """An actor, anchor or duration expression does not parse; the loader locates it."""
