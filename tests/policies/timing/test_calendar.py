"""Working-time deadlines against real holiday calendars, and wall-clock deadlines across DST."""

from datetime import datetime

import holidays

from policies.timing.calendar import WorkCalendar
from policies.timing.durations import parse_duration
from tests.factories import NEW_YORK, SHANGHAI, TOKYO

JP = WorkCalendar("Asia/Tokyo", "JP", start_minute=9 * 60, end_minute=18 * 60)
CN = WorkCalendar("Asia/Shanghai", "CN", start_minute=8 * 60 + 30, end_minute=17 * 60 + 30)


def test_working_day_skips_golden_week_in_japan() -> None:
    # Fri 2026-05-01 17:00: May 2-3 weekend, May 4-6 public holidays, so one working day ends Thu May 7 17:00.
    due = JP.add(datetime(2026, 5, 1, 17, 0, tzinfo=TOKYO), parse_duration("1営業日"))
    assert due == datetime(2026, 5, 7, 17, 0, tzinfo=TOKYO)


def test_chinese_adjusted_working_saturday_counts_as_a_working_day() -> None:
    assert holidays.country_holidays("CN", years=2026).is_working_day(datetime(2026, 2, 14).date())
    due = CN.add(datetime(2026, 2, 13, 10, 0, tzinfo=SHANGHAI), parse_duration("1个工作日"))
    assert due == datetime(2026, 2, 14, 10, 0, tzinfo=SHANGHAI)


def test_three_working_days_across_spring_festival() -> None:
    # Sat Feb 14 works; Feb 15-23 are off (Sunday, the festival and its substitute days); Feb 24, 25 work.
    due = CN.add(datetime(2026, 2, 13, 10, 0, tzinfo=SHANGHAI), parse_duration("3 working days"))
    assert due == datetime(2026, 2, 25, 10, 0, tzinfo=SHANGHAI)


def test_outside_working_hours_the_count_starts_at_the_next_opening() -> None:
    friday_evening = datetime(2026, 4, 3, 20, 0, tzinfo=TOKYO)
    assert JP.add(friday_evening, parse_duration("1wd")) == datetime(2026, 4, 6, 18, 0, tzinfo=TOKYO)
    assert JP.add(friday_evening, parse_duration("2wh")) == datetime(2026, 4, 6, 11, 0, tzinfo=TOKYO)


def test_working_hours_carry_over_to_the_next_working_day() -> None:
    due = JP.add(datetime(2026, 4, 2, 17, 0, tzinfo=TOKYO), parse_duration("3 working hours"))
    assert due == datetime(2026, 4, 3, 11, 0, tzinfo=TOKYO)


def test_wall_clock_day_across_dst_is_24_elapsed_hours() -> None:
    ny = WorkCalendar("America/New_York", "US")
    start = datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK)
    due = ny.add(start, parse_duration("24h"))
    assert due == datetime(2026, 3, 8, 13, 0, tzinfo=NEW_YORK)
    assert (due - start).total_seconds() == 24 * 3600
    assert due.astimezone(NEW_YORK).utcoffset() != start.utcoffset()


def test_working_window_on_a_dst_day_follows_local_opening_hours() -> None:
    ny = WorkCalendar("America/New_York", "US", start_minute=9 * 60, end_minute=17 * 60)
    # Friday 16:00 EST + 2 working hours: 1 h on Friday, 1 h from Monday 09:00 EDT.
    due = ny.add(datetime(2026, 3, 6, 16, 0, tzinfo=NEW_YORK), parse_duration("2wh"))
    assert due == datetime(2026, 3, 9, 10, 0, tzinfo=NEW_YORK)


def test_no_country_means_monday_to_friday() -> None:
    plain = WorkCalendar("Asia/Tokyo")
    due = plain.add(datetime(2026, 5, 1, 12, 0, tzinfo=TOKYO), parse_duration("1wd"))
    assert due == datetime(2026, 5, 4, 12, 0, tzinfo=TOKYO)
