from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from policy.periods import Period


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["P30D", "P1D", "P7D", "P1M", "P12M", "P1Y", "PT24H", "P1DT12H", "P2W", "PT90M"]
)
def test_a_period_reads_back_as_the_iso_text_it_was_parsed_from(text: str) -> None:
    assert str(Period.parse(text)) == text


def test_zero_parts_are_dropped_from_the_text() -> None:
    assert str(Period.parse("P0Y1M0D")) == "P1M"


def test_parsed_and_constructed_periods_are_equal() -> None:
    assert Period.parse("P1DT12H") == Period(days=1, hours=12)


def test_one_month_after_january_31_is_february_29_in_a_leap_year() -> None:
    assert Period.parse("P1M").add_to(utc(2024, 1, 31, 9)) == utc(2024, 2, 29, 9)


def test_one_month_after_january_31_is_february_28_in_a_common_year() -> None:
    assert Period.parse("P1M").add_to(utc(2023, 1, 31, 9)) == utc(2023, 2, 28, 9)


def test_one_month_before_march_31_is_the_last_day_of_february() -> None:
    assert Period.parse("P1M").subtract_from(utc(2024, 3, 31)) == utc(2024, 2, 29)


def test_a_month_is_not_30_days() -> None:
    assert Period.parse("P1M").add_to(utc(2024, 3, 1)) == utc(2024, 4, 1)
    assert Period.parse("P30D").add_to(utc(2024, 3, 1)) == utc(2024, 3, 31)


def test_twelve_months_and_one_year_both_land_on_february_28_from_a_leap_day() -> None:
    leap_day = utc(2024, 2, 29)
    assert Period.parse("P12M").add_to(leap_day) == utc(2025, 2, 28)
    assert Period.parse("P1Y").add_to(leap_day) == utc(2025, 2, 28)


def test_months_cross_the_year_end() -> None:
    assert Period.parse("P2M").add_to(utc(2024, 12, 15)) == utc(2025, 2, 15)
    assert Period.parse("P2M").subtract_from(utc(2025, 1, 15)) == utc(2024, 11, 15)


def test_a_day_is_exactly_24_hours_across_a_dst_change() -> None:
    madrid = ZoneInfo("Europe/Madrid")
    before_spring_forward = datetime(2024, 3, 30, 12, 0, tzinfo=madrid)
    later = Period.parse("P1D").add_to(before_spring_forward)
    # Same-zone subtraction in Python compares wall clocks, so compare in UTC.
    assert later.astimezone(UTC) - before_spring_forward.astimezone(UTC) == timedelta(hours=24)
    assert later.hour == 13  # the wall clock moved on an hour that night


def test_days_and_hours_add_up() -> None:
    assert Period.parse("P1DT12H").add_to(utc(2024, 1, 1)) == utc(2024, 1, 2, 12)


def test_two_weeks_are_fourteen_days() -> None:
    assert Period.parse("P2W").add_to(utc(2024, 1, 1)) == utc(2024, 1, 15)


def test_subtracting_an_exact_period_undoes_adding_it() -> None:
    start = utc(2024, 6, 3, 12, 30, 15)
    period = Period.parse("P1DT12H")
    assert period.subtract_from(period.add_to(start)) == start


def test_calendar_part_is_applied_before_exact_part() -> None:
    assert Period.parse("P1M1D").add_to(utc(2024, 1, 31)) == utc(2024, 3, 1)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "P",
        "PT",
        "P0D",
        "PT0H",
        "-P1D",
        "P-1D",
        "P1.5D",
        "P1,5D",
        "p30d",
        "30D",
        "P30",
        "P1W2D",
        "P1DT",
        "PT1D",
        " P1D",
        "P1D ",
        "P\u0663D",  # an Arabic-Indic digit three
        "P101Y",
        "P1" + "0" * 50 + "D",
    ],
)
def test_a_malformed_zero_negative_or_huge_period_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"period|duration"):
        Period.parse(text)


def test_the_refusal_quotes_the_bad_text() -> None:
    with pytest.raises(ValueError, match="'30 days'"):
        Period.parse("30 days")


def test_a_period_with_a_negative_part_cannot_be_constructed() -> None:
    with pytest.raises(ValueError, match="negative"):
        Period(days=-1)


def test_weeks_cannot_be_mixed_with_other_parts() -> None:
    with pytest.raises(ValueError, match="weeks"):
        Period(weeks=1, days=2)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        Period.parse("P1D").add_to(datetime(2024, 1, 1))  # noqa: DTZ001 - the point of the test
