"""The rows of the dashboard's tables, as the page, the charts and the CSV downloads read them.

Department names come from the pinned org snapshot; "" stands for owners without a department (the
page names that in the reader's language).
"""

from dataclasses import dataclass
from datetime import date, datetime

from flows.dashboard.stats import Spread, share


@dataclass(frozen=True)
class OnTime:
    """Settled obligations of one department, one step, or one step of one department ("" = all)."""

    department: str
    department_name: str
    step: str
    step_title: str
    met: int
    late: int
    missed: int

    @property
    def due(self) -> int:
        return self.met + self.late + self.missed

    @property
    def share(self) -> float | None:
        return share(self.met, self.due)


@dataclass(frozen=True)
class Times:
    """A spread of durations for one department ("" = every department shown, together)."""

    department: str
    department_name: str
    spread: Spread


@dataclass(frozen=True)
class WeekCount:
    week: date  # the local Monday the week starts on
    department: str
    department_name: str
    count: int


@dataclass(frozen=True)
class Unresolved:
    complaint: str
    department: str
    department_name: str
    received_at: datetime
    age: float  # seconds, at the dashboard's ``now``
