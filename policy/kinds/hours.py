"""Kinds about the called party's clock: calling hours in their local time."""

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field, Strict, model_validator

from policy.business_days import has_own_calendar, holiday_name
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
_Hours = Annotated[tuple[LocalTime, LocalTime], Strict(False)]
_Closed = Annotated[tuple[()], Strict(False)]  # ``[]`` in a pack: no calls that day
_Breaks = Annotated[tuple[_Hours, ...], Strict(False)]
_Span = tuple[time, time]
_OnDays = Annotated[dict[Annotated[Weekday, Strict(False)], _Hours | _Closed], Strict(False)]
# "MM-DD" of a yearly date the state's calendar in ``holidays`` lacks, and its name.
_MonthDay = Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]


class LocalHoursParams(Params):
    """Contacts only from ``start`` up to (not including) ``end``, local time; on a day that
    ``on_days`` names, within that day's window instead (the CRTC's weekend hours), or not
    at all where its window is empty (Mississippi's Sundays); and none on a legal holiday
    of ``closed_on_holidays_of`` (an ISO 3166 code; its calendar in the ``holidays``
    package, observed days included) nor on a yearly date ``also_closed_on`` names (a
    state's holiday that calendar lacks); nor within a ``breaks`` span of any day (France's
    13:00-14:00)."""

    start: LocalTime
    end: LocalTime
    on_days: _OnDays = Field(default_factory=dict)
    closed_on_holidays_of: str | None = None
    also_closed_on: dict[_MonthDay, str] = Field(default_factory=dict)
    breaks: _Breaks = ()

    @model_validator(mode="after")
    def _start_before_end(self) -> "LocalHoursParams":
        for window in ((self.start, self.end), *self.on_days.values(), *self.breaks):
            if window and not window[_OPENS] < window[_CLOSES]:
                raise ValueError(
                    "start must be before end (windows across midnight are not law here)"
                )
        windows = [self.on_days.get(day, (self.start, self.end)) for day in WEEKDAYS]
        if not any(window and _less_breaks(window, self.breaks) for window in windows):
            raise ValueError("every day is closed: the rule would never allow a contact")
        code = self.closed_on_holidays_of
        if code is not None and not has_own_calendar(code):
            # Its country's days alone would open the state's own holidays: fail at load.
            raise ValueError(f"no holiday calendar for {code!r}")
        if self.also_closed_on and code is None:
            raise ValueError("also_closed_on adds to closed_on_holidays_of, which is missing")
        for month_day in self.also_closed_on:  # the pattern lets 02-31 through
            date.fromisoformat(f"2000-{month_day}")
        return self

    def holiday(self, day: date) -> str | None:
        """The legal holiday that closes this local day, if any."""
        if self.closed_on_holidays_of is None:  # the usual case: one test per check
            return None
        named = self.also_closed_on.get(f"{day.month:02}-{day.day:02}")
        return named or holiday_name(day, self.closed_on_holidays_of)

    def window(self, day: date) -> _Span | None:
        """The hours on this local day, breaks aside; None on a day without any."""
        if self.holiday(day) is not None:
            return None
        return self.on_days.get(WEEKDAYS[day.weekday()], (self.start, self.end)) or None

    def spans(self, day: date) -> tuple[_Span, ...]:
        """What is open on this local day, in order: its hours less the breaks."""
        hours = self.window(day)
        if hours is None:
            return ()
        return _less_breaks(hours, self.breaks) if self.breaks else (hours,)


@lru_cache(maxsize=64)
def _less_breaks(hours: _Span, breaks: tuple[_Span, ...]) -> tuple[_Span, ...]:
    spans = [hours]
    for closes, opens in sorted(breaks):
        pieces = [(start, min(end, closes)) for start, end in spans]
        pieces += [(max(start, opens), end) for start, end in spans]
        spans = sorted(piece for piece in pieces if piece[_OPENS] < piece[_CLOSES])
    return tuple(spans)


def local_hours(facts: Facts, params: LocalHoursParams, rule: RuleIdentity) -> Reason | None:
    """Within the hours in the called party's local time, in every zone they may be in.

    Where the zone is uncertain (a number whose area spans zones) the most restrictive
    reading wins: the contact must be within the hours in all of them. Where it is unknown
    the rule fails closed. ``end`` itself is outside: "no calls after 9 pm" allows none at 21:00.
    """
    if not facts.time_zones:
        return deny(rule, ["the customer's local time is unknown (no time zone, no phone area)"])
    outside: list[tuple[str, datetime, tuple[_Span, ...]]] = []
    for zone in facts.time_zones:
        local = facts.send_at.astimezone(ZoneInfo(zone))
        spans, clock = params.spans(local.date()), local.time()
        for start, end in spans:  # a loop, not any(): a generator cost a check 1.5 %
            if start <= clock < end:
                break
        else:
            outside.append((zone, local, spans))
    if not outside:
        return None
    opens = max(_next_opening(local, params) for _, local, _ in outside)
    zone, local, spans = outside[0]
    now = f"{local:%H:%M}"
    if params.on_days or params.closed_on_holidays_of:  # the hours depend on the day
        now = f"{WEEKDAYS[local.weekday()].capitalize()} {now}"
    where = _closed_or_outside(params, local.date(), spans)
    gap = f"it is {now} in {zone}, {where}; allowed from {instant(opens)}"
    return deny(rule, [gap], earliest_allowed_at=opens)


def _closed_or_outside(params: LocalHoursParams, day: date, spans: tuple[_Span, ...]) -> str:
    if spans:
        return f"outside {', '.join(_span(span) for span in spans)}"
    holiday = params.holiday(day)
    if holiday is None:
        return "no hours that day"
    return f"{holiday}, a legal holiday in {params.closed_on_holidays_of}: no hours that day"


def _span(hours: _Span) -> str:
    return f"{hours[_OPENS]:%H:%M}-{hours[_CLOSES]:%H:%M}"


def _next_opening(local: datetime, params: LocalHoursParams) -> datetime:
    """The next local opening at or after ``local``, as a UTC instant (DST-aware)."""
    day, start = _next_edge(local, params, _OPENS)
    return datetime.combine(day, start, tzinfo=local.tzinfo).astimezone(UTC)


def _next_edge(local: datetime, params: LocalHoursParams, edge: int) -> tuple[date, time]:
    """The day and time of the next opening or closing at or after ``local``: today's if
    one is still ahead, else the next day's with hours (``on_days`` may set days apart or
    close them, ``breaks`` split them; the params hold at least one open day)."""
    day = local.date()
    while True:
        for span in params.spans(day):
            if day != local.date() or local.time() < span[edge]:
                return day, span[edge]
        day += timedelta(days=1)


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
