"""Which calendar day it is for the customer: effective dates are local dates.

A law in force "from 29 June 2023" in Spain is in force from midnight in Madrid, which is
22:00 UTC the evening before. So a rule is judged on the local date of send_at in every
zone the customer may be in (the stored zone, the zones of their phones, else every zone of
their countries, else every zone on earth), and applies if it is in force on any of them:
near a start date the stricter reading wins.
"""

import importlib.resources
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

# Local time is at most 12 hours behind and 14 hours ahead of UTC (Baker Island, Kiribati).
_BEHIND = timedelta(hours=12)
_AHEAD = timedelta(hours=14)


def earlier_reading(local: datetime) -> datetime:
    """A local wall-clock time as a UTC instant, at its earlier reading where a DST change
    skips it (02:30 on a spring-forward night) or repeats it: where an allow must end by
    then, it never ends late."""
    return min(local.astimezone(UTC), local.replace(fold=1).astimezone(UTC))


def local_instant(day: date, at: time, zone: str) -> datetime:
    """``at`` o'clock on ``day`` in ``zone``, as a UTC instant at its earlier reading."""
    return earlier_reading(datetime.combine(day, at, tzinfo=ZoneInfo(zone)))


def first_instant_of(day: date, zones: Iterable[str]) -> datetime:
    """When ``day`` begins in the first of the zones to reach it (anywhere on earth if no
    zone is known): the first instant a rule dated ``day`` may apply."""
    starts = [local_instant(day, time(), zone) for zone in zones]
    return min(starts) if starts else datetime.combine(day, time(), tzinfo=UTC) - _AHEAD


def possible_days(send_at: datetime) -> tuple[date, date]:
    """The first and last local date send_at can be anywhere on earth."""
    utc = send_at.astimezone(UTC)
    return (utc - _BEHIND).date(), (utc + _AHEAD).date()


def local_days(send_at: datetime, zones: Iterable[str]) -> frozenset[date]:
    """The local date of send_at in each zone; every possible one if no zone is known."""
    days = frozenset(send_at.astimezone(ZoneInfo(zone)).date() for zone in zones)
    if days:
        return days
    first, last = possible_days(send_at)
    return frozenset(first + timedelta(days=n) for n in range((last - first).days + 1))


def zones_of(jurisdictions: Iterable[str]) -> tuple[str, ...]:
    """Every IANA zone of the customers' countries (from tzdata's zone.tab), sorted."""
    return tuple(sorted({zone for code in jurisdictions for zone in _country_zones(code[:2])}))


@lru_cache(maxsize=1)
def _zone_table() -> dict[str, tuple[str, ...]]:
    text = importlib.resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text()
    table: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            country, _coordinates, zone, *_ = line.split("\t")
            table.setdefault(country, []).append(zone)
    return {country: tuple(zones) for country, zones in table.items()}


def _country_zones(country: str) -> tuple[str, ...]:
    return _zone_table().get(country.upper(), ())
