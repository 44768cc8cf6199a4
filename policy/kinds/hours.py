"""Kinds about the called party's clock: calling hours in their local time."""

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field, Strict, model_validator

from policy.facts import Facts
from policy.kinds.base import LocalTime, Params, RuleIdentity, deny, instant
from policy.local_days import local_instant
from policy.reasons import Reason


class Weekday(StrEnum):
    """In ``date.weekday()`` order."""

    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"


WEEKDAYS = tuple(Weekday)
_OPENS, _CLOSES = 0, 1  # the two edges of a day's window, as ``window`` returns them
_Window = Annotated[tuple[LocalTime, LocalTime], Strict(False)]
_OnDays = Annotated[dict[Annotated[Weekday, Strict(False)], _Window], Strict(False)]


class LocalHoursParams(Params):
    """Contacts only from ``start`` up to (not including) ``end``, local time; on a day that
    ``on_days`` names, within that day's window instead (the CRTC's weekend hours)."""

    start: LocalTime
    end: LocalTime
    on_days: _OnDays = Field(default_factory=dict)

    @model_validator(mode="after")
    def _start_before_end(self) -> "LocalHoursParams":
        for start, end in ((self.start, self.end), *self.on_days.values()):
            if not start < end:
                raise ValueError(
                    "start must be before end (windows across midnight are not law here)"
                )
        return self

    def window(self, day: date) -> tuple[time, time]:
        """The hours on this local day."""
        return self.on_days.get(WEEKDAYS[day.weekday()], (self.start, self.end))


def local_hours(facts: Facts, params: LocalHoursParams, rule: RuleIdentity) -> Reason | None:
    """Within the hours in the called party's local time, in every zone they may be in.

    Where the zone is uncertain (a number whose area spans zones) the most restrictive
    reading wins: the contact must be within the hours in all of them. Where it is unknown
    the rule fails closed. ``end`` itself is outside: "no calls after 9 pm" allows none at 21:00.
    """
    if not facts.time_zones:
        return deny(rule, ["the customer's local time is unknown (no time zone, no phone area)"])
    outside: list[tuple[str, datetime, time, time]] = []
    for zone in facts.time_zones:
        local = facts.send_at.astimezone(ZoneInfo(zone))
        start, end = params.window(local.date())
        if not start <= local.time() < end:
            outside.append((zone, local, start, end))
    if not outside:
        return None
    opens = max(_next_opening(local, params) for _, local, _, _ in outside)
    zone, local, start, end = outside[0]
    now = f"{local:%H:%M}"
    if params.on_days:  # the hours depend on the day: say which (not the locale's name)
        now = f"{WEEKDAYS[local.weekday()].capitalize()} {now}"
    hours = f"{start:%H:%M}-{end:%H:%M}"
    gap = f"it is {now} in {zone}, outside {hours}; allowed from {instant(opens)}"
    return deny(rule, [gap], earliest_allowed_at=opens)


def _next_opening(local: datetime, params: LocalHoursParams) -> datetime:
    """The next local opening at or after ``local``, as a UTC instant (DST-aware)."""
    day, start = _next_edge(local, params, _OPENS)
    return datetime.combine(day, start, tzinfo=local.tzinfo).astimezone(UTC)


def _next_edge(local: datetime, params: LocalHoursParams, edge: int) -> tuple[date, time]:
    """The day and time of the next opening or closing at or after ``local``: today's if
    it is still ahead, else the next day's, which ``on_days`` may set apart."""
    day = local.date()
    if local.time() >= params.window(day)[edge]:
        day += timedelta(days=1)
    return day, params.window(day)[edge]


def local_hours_close(facts: Facts, params: LocalHoursParams) -> datetime | None:
    """When an allow within the hours stops holding: the next local ``end`` in the first
    zone to reach it."""
    closes = []
    for zone in facts.time_zones:
        day, end = _next_edge(facts.send_at.astimezone(ZoneInfo(zone)), params, _CLOSES)
        closes.append(_closing(zone, day, end))
    return min(closes) if closes else None


@lru_cache(maxsize=4096)  # a zone's closing on a day: every check that day asks the same
def _closing(zone: str, day: date, end: time) -> datetime:
    return local_instant(day, end, zone)
