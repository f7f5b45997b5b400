"""Durations written the way administrators write them, in English, Japanese and Chinese."""

import pytest

from policies.errors import ExpressionError
from policies.timing.durations import Duration, Period, Unit, parse_duration, parse_period


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", Duration(30, Unit.SECONDS)),
        ("30秒", Duration(30, Unit.SECONDS)),
        ("30 minutes", Duration(1800, Unit.SECONDS)),
        ("30分", Duration(1800, Unit.SECONDS)),
        ("2h", Duration(7200, Unit.SECONDS)),
        ("2時間", Duration(7200, Unit.SECONDS)),
        ("24小时", Duration(86400, Unit.SECONDS)),
        ("1 week", Duration(604800, Unit.SECONDS)),
        ("3 working days", Duration(3, Unit.WORKING_DAYS)),
        ("3営業日", Duration(3, Unit.WORKING_DAYS)),
        ("1个工作日", Duration(1, Unit.WORKING_DAYS)),
        ("7個工作日", Duration(7, Unit.WORKING_DAYS)),
        ("8wh", Duration(8, Unit.WORKING_HOURS)),
    ],
)
def test_durations_in_three_languages(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["soon", "2 fortnights", "-1h", "1.5h", ""])
def test_unreadable_durations_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ExpressionError, match="duration"):
        parse_duration(text)


def test_penalty_periods() -> None:
    assert parse_period("1年") == Period(years=1)
    assert parse_period("6か月") == Period(months=6)
    assert str(parse_period("1 year")) == "1 year"
