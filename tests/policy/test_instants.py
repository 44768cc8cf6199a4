"""The span of instants the engine decides about: its ends, and offsets across them."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from policy.instants import EARLIEST, END, InstantOutOfRangeError, supported

MICROSECOND = timedelta(microseconds=1)


@pytest.mark.parametrize("at", [EARLIEST, END - MICROSECOND, datetime(2026, 12, 7, tzinfo=UTC)])
def test_an_instant_inside_the_span_comes_back_in_utc(at: datetime) -> None:
    assert supported(at) == at
    assert supported(at).tzinfo is UTC


def test_an_offset_is_converted_to_utc() -> None:
    madrid_winter = timezone(timedelta(hours=1))
    assert supported(datetime(2026, 12, 7, 10, tzinfo=madrid_winter)) == datetime(
        2026, 12, 7, 9, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "at",
    [
        EARLIEST - MICROSECOND,
        END,
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        # Inside the span on the wall clock, outside it in UTC.
        datetime(1900, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
        datetime(2999, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-1))),
        # Converting these to UTC overflows the calendar itself.
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
        datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_an_instant_outside_the_span_is_refused_naming_it(at: datetime) -> None:
    with pytest.raises(InstantOutOfRangeError, match=r"from 1900-01-01 up to .* 3000-01-01"):
        supported(at)
