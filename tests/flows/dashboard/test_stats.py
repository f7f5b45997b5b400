"""The dashboard's statistics: shares, buckets, percentiles, weeks and the R15 ranking."""

from datetime import UTC, date, datetime, timedelta

from flows.dashboard.stats import (
    AGE_BOUNDS,
    DAY,
    DURATION_BOUNDS,
    HOUR,
    MINUTE,
    RankInput,
    bucket_counts,
    percentile,
    rank,
    share,
    spread,
    week_starts,
)
from tests.factories import NEW_YORK, TOKYO


def test_a_share_of_nothing_is_unknown_not_zero() -> None:
    assert share(3, 4) == 0.75
    assert share(0, 4) == 0.0
    assert share(0, 0) is None


def test_buckets_include_their_lower_bound_and_the_last_is_open() -> None:
    values = [0, 29 * MINUTE, 30 * MINUTE, 59 * MINUTE, 7 * DAY, 400 * DAY]
    counts = bucket_counts(values, DURATION_BOUNDS)
    assert len(counts) == len(DURATION_BOUNDS) + 1
    assert counts[:2] == [2, 2]
    assert counts[-1] == 2
    assert sum(counts) == len(values)
    assert bucket_counts([], AGE_BOUNDS) == [0, 0, 0, 0, 0]


def test_percentiles_interpolate_between_closest_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([40.0, 10.0, 20.0, 30.0], 0.5) == 25.0  # order does not matter
    assert percentile([10.0, 20.0, 30.0], 0.5) == 20.0
    assert percentile(list(map(float, range(1, 11))), 0.9) == 9.1
    assert percentile([10.0, 20.0], 1.0) == 20.0


def test_a_spread_summarises_durations() -> None:
    summary = spread([10 * MINUTE, 50 * MINUTE, 3 * HOUR])
    assert (summary.count, summary.median, summary.p90) == (3, 50 * MINUTE, 154 * MINUTE)
    assert summary.buckets[:4] == (1, 1, 0, 1)
    empty = spread([])
    assert (empty.count, empty.median, empty.p90, sum(empty.buckets)) == (0, None, None, 0)


def test_weeks_start_on_local_mondays_across_a_dst_change() -> None:
    starts = week_starts(date(2026, 3, 4), date(2026, 3, 18), NEW_YORK)  # DST starts 2026-03-08
    assert [s.date() for s in starts] == [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)]
    assert all((s.hour, s.minute) == (0, 0) for s in starts)
    utc = [s.astimezone(UTC) for s in starts]
    assert utc[1] - utc[0] == timedelta(days=7, hours=-1)  # the week with the change is an hour short
    assert utc[2] - utc[1] == timedelta(days=7)
    assert week_starts(date(2026, 3, 30), date(2026, 3, 30), TOKYO) == [datetime(2026, 3, 30, tzinfo=TOKYO)]


def test_ranking_by_on_time_share_then_violations_per_complaint() -> None:
    ranked = rank(
        [
            RankInput("a", "A", 0.5, 1, 10),
            RankInput("b", "B", 0.9, 6, 3),
            RankInput("c", "C", 0.5, 4, 10),
            RankInput("d", "D", None, 0, 0),
            RankInput("e", "E", 0.9, 2, 1),
            RankInput("f", "F", 0.5, 2, 20),
        ]
    )
    assert [(r.rank, r.key, r.per_complaint) for r in ranked] == [
        (1, "b", 2.0),
        (1, "e", 2.0),  # same share and same violations per complaint: same rank, in the order given
        (3, "a", 0.1),
        (3, "f", 0.1),
        (5, "c", 0.4),
        (None, "d", None),  # nothing due: unranked, last
    ]


def test_a_department_with_no_complaints_has_no_violation_rate() -> None:
    [only] = rank([RankInput("a", "A", 1.0, 0, 0)])
    assert (only.rank, only.per_complaint) == (1, None)
