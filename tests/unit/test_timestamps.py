"""The fast instant forms write exactly what the standard library writes.

Each form is compared with the expression it replaced, at the values where the two ways
could part: no fraction, a one-microsecond fraction, a year before 1000 and the first year
after, another zone, and freezegun's datetime subclass (which orjson refuses).
"""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from audit.timestamps import iso_z, iso_z_micro, space_separated_micro

INSTANTS = [
    datetime(2026, 12, 1, 18, 0, 0, tzinfo=UTC),
    datetime(2026, 12, 1, 18, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 12, 1, 18, 0, 0, 999_999, tzinfo=UTC),
    datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(1000, 1, 1, tzinfo=UTC),
    datetime(2026, 3, 29, 3, 30, 0, 120, tzinfo=ZoneInfo("Europe/Madrid")),
    datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo("America/New_York")),
    datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
]


def _standard_iso_z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _standard_audit(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _standard_sqlite(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(" ", "microseconds")[:-6]


@pytest.mark.parametrize("at", INSTANTS, ids=str)
def test_each_form_matches_the_standard_library(at: datetime) -> None:
    assert iso_z(at) == _standard_iso_z(at)
    assert iso_z_micro(at) == _standard_audit(at)
    assert space_separated_micro(at) == _standard_sqlite(at)


def test_a_zero_fraction_is_written_out_where_the_form_always_has_one() -> None:
    at = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    assert iso_z(at) == "2026-12-01T18:00:00Z"
    assert iso_z_micro(at) == "2026-12-01T18:00:00.000000Z"
    assert space_separated_micro(at) == "2026-12-01 18:00:00.000000"


def test_an_audit_year_before_1000_keeps_strftimes_unpadded_form() -> None:
    assert iso_z_micro(datetime(999, 1, 2, tzinfo=UTC)) == _standard_audit(
        datetime(999, 1, 2, tzinfo=UTC)
    )
    assert space_separated_micro(datetime(999, 1, 2, tzinfo=UTC)) == "0999-01-02 00:00:00.000000"


@freeze_time("2026-03-29T00:59:59.5Z")
def test_freezeguns_datetime_takes_the_standard_way() -> None:
    now = datetime.now(UTC)
    assert type(now).__name__ == "FakeDatetime"  # a subclass, which orjson refuses
    assert iso_z(now) == "2026-03-29T00:59:59.500000Z"
    assert iso_z_micro(now) == "2026-03-29T00:59:59.500000Z"
    assert space_separated_micro(now) == "2026-03-29 00:59:59.500000"
