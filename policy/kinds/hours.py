"""Kinds about the called party's clock: calling hours in their local time."""

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from pydantic import model_validator

from policy.facts import Facts
from policy.kinds.base import LocalTime, Params, RuleIdentity, deny, instant
from policy.local_days import local_instant
from policy.reasons import Reason


class LocalHoursParams(Params):
    """Contacts only from ``start`` up to (not including) ``end``, local time."""

    start: LocalTime
    end: LocalTime

    @model_validator(mode="after")
    def _start_before_end(self) -> "LocalHoursParams":
        if not self.start < self.end:
            raise ValueError("start must be before end (windows across midnight are not law here)")
        return self


def local_hours(facts: Facts, params: LocalHoursParams, rule: RuleIdentity) -> Reason | None:
    """Within the hours in the called party's local time, in every zone they may be in.

    Where the zone is uncertain (a number whose area spans zones) the most restrictive
    reading wins: the contact must be within the hours in all of them. Where it is unknown
    the rule fails closed. ``end`` itself is outside: "no calls after 9 pm" allows none at 21:00.
    """
    if not facts.time_zones:
        return deny(rule, ["the customer's local time is unknown (no time zone, no phone area)"])
    outside = [
        (zone, local)
        for zone in facts.time_zones
        if not params.start
        <= (local := facts.send_at.astimezone(ZoneInfo(zone))).time()
        < params.end
    ]
    if not outside:
        return None
    opens = max(_next_opening(local, params.start) for _, local in outside)
    zone, local = outside[0]
    return deny(
        rule,
        [
            f"it is {local:%H:%M} in {zone}, outside {params.start:%H:%M}-{params.end:%H:%M}; "
            f"allowed from {instant(opens)}"
        ],
        earliest_allowed_at=opens,
    )


def _next_opening(local: datetime, start: time) -> datetime:
    """The next local ``start`` at or after ``local``, as a UTC instant (DST-aware)."""
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=local.tzinfo).astimezone(UTC)


def local_hours_close(facts: Facts, params: LocalHoursParams) -> datetime | None:
    """When an allow within the hours stops holding: the next local ``end`` in the first
    zone to reach it."""
    closes = []
    for zone in facts.time_zones:
        local = facts.send_at.astimezone(ZoneInfo(zone))
        day = local.date() if local.time() < params.end else local.date() + timedelta(days=1)
        closes.append(_closing(zone, day, params.end))
    return min(closes) if closes else None


@lru_cache(maxsize=4096)  # a zone's closing on a day: every check that day asks the same
def _closing(zone: str, day: date, end: time) -> datetime:
    return local_instant(day, end, zone)
