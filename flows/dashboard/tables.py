"""Turning the dashboard's tallies into its tables: ordered, named, filtered to one department if asked.

The ranking always covers every department (a ranking of one is no ranking); every other table
shows only the selected department when there is one.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from flows.dashboard.departments import UNASSIGNED
from flows.dashboard.names import Snapshots
from flows.dashboard.rows import OnTime, Times, Unresolved, WeekCount
from flows.dashboard.stats import Ranked, RankInput, rank, share, spread

Tallies = Mapping[tuple[str, str], list[int]]  # (department, step) → [met, late, missed]


@dataclass(frozen=True)
class Tables:
    snaps: Snapshots
    selected: str | None

    def shown(self, department: str) -> bool:
        return self.selected is None or department == self.selected

    def order(self, keys: Iterable[str], known: Mapping[str, str]) -> list[str]:
        """Directory (or policy) order first, then unknown keys by id; owners without department last."""
        position = {key: index for index, key in enumerate(known)}
        return sorted(set(keys), key=lambda k: (k == UNASSIGNED, position.get(k, len(position)), k))

    def departments(self, keys: Iterable[str] = ()) -> list[tuple[str, str]]:
        ordered = self.order([*self.snaps.departments, *keys], self.snaps.departments)
        return [(key, self.snaps.department_name(key)) for key in ordered]

    def on_time(self, tallies: Tallies) -> tuple[list[OnTime], list[OnTime], list[OnTime]]:
        """Per department, per step (the shown departments together) and per department and step."""
        shown = {key: counts for key, counts in tallies.items() if self.shown(key[0])}
        by_department: dict[str, list[int]] = {}
        by_step: dict[str, list[int]] = {}
        for (department, step), counts in shown.items():
            _add(by_department.setdefault(department, [0, 0, 0]), counts)
            _add(by_step.setdefault(step, [0, 0, 0]), counts)
        departments = self.order(by_department, self.snaps.departments)
        steps = self.order(by_step, self.snaps.steps)
        return (
            [self._row(d, "", by_department[d]) for d in departments],
            [self._row("", s, by_step[s]) for s in steps],
            [self._row(d, s, shown[d, s]) for d in departments for s in steps if (d, s) in shown],
        )

    def _row(self, department: str, step: str, counts: list[int]) -> OnTime:
        name = self.snaps.department_name(department) if department else ""
        title = self.snaps.step_title(step) if step else ""
        return OnTime(department, name, step, title, *counts)

    def times(self, durations: Iterable[tuple[str, float]], departments: Iterable[str]) -> list[Times]:
        """The spread over every shown department, then one per department that received complaints."""
        values: dict[str, list[float]] = {d: [] for d in departments if self.shown(d)}
        for department, seconds in durations:
            if self.shown(department):
                values.setdefault(department, []).append(seconds)
        everything = [seconds for seconds_list in values.values() for seconds in seconds_list]
        rows = [Times("", "", spread(everything))]
        for department in self.order(values, self.snaps.departments):
            rows.append(Times(department, self.snaps.department_name(department), spread(values[department])))
        return rows

    def violations(self, per_week: Counter[tuple[int, str]], weeks: list[datetime]) -> list[WeekCount]:
        departments = self.order((d for _, d in per_week), self.snaps.departments)
        return [
            WeekCount(weeks[index].date(), department, self.snaps.department_name(department), count)
            for index in range(len(weeks))
            for department in departments
            if self.shown(department) and (count := per_week.get((index, department), 0))
        ]

    def unresolved(self, open_complaints: Iterable[Unresolved]) -> list[Unresolved]:
        rows = (u for u in open_complaints if self.shown(u.department))
        return sorted(rows, key=lambda u: (u.received_at, u.complaint))

    def ranking(
        self, tallies: Tallies, per_week: Counter[tuple[int, str]], complaints: Counter[str]
    ) -> list[Ranked]:
        met: Counter[str] = Counter()
        due: Counter[str] = Counter()
        for (department, _), counts in tallies.items():
            met[department] += counts[0]
            due[department] += sum(counts)
        violations: Counter[str] = Counter()
        for (_, department), count in per_week.items():
            violations[department] += count
        entries = [
            RankInput(key, name, share(met[key], due[key]), violations[key], complaints[key])
            for key, name in self.departments([*due, *violations])
            if key != UNASSIGNED
        ]
        return rank(entries)


def _add(total: list[int], counts: list[int]) -> None:
    for index, count in enumerate(counts):
        total[index] += count
