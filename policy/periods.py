"""ISO 8601 durations, for notice periods in the packs and rolling windows in the gate.

Years and months follow the calendar: RULES.md counts "1 month" and "12 consecutive
months" on the calendar, not as 30 days, so 31 January plus one month is the last day of
February. Weeks, days, hours, minutes and seconds are exact elapsed time: a day is 24 hours
of UTC, whatever the customer's zone does with its clocks. Where a period has both, the
calendar part is applied first, as XML Schema 1.1 adds a duration to a dateTime.
"""

import re
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Self

_WEEK_FORM = re.compile(r"P(?P<weeks>[0-9]+)W", re.ASCII)
_FULL_FORM = re.compile(
    r"P(?=[0-9]|T[0-9])"
    r"(?:(?P<years>[0-9]+)Y)?(?:(?P<months>[0-9]+)M)?(?:(?P<days>[0-9]+)D)?"
    r"(?:T(?=[0-9])(?:(?P<hours>[0-9]+)H)?(?:(?P<minutes>[0-9]+)M)?(?:(?P<seconds>[0-9]+)S)?)?",
    re.ASCII,
)
_LONGEST_TEXT = 40
_LONGEST_YEARS = 100  # no rule or customer limit needs more; a longer period is a typo
_LONGEST_SECONDS = _LONGEST_YEARS * 366 * 86_400
_FIELDS = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")


@dataclass(frozen=True, slots=True)
class Period:
    """A positive ISO 8601 duration such as ``P30D``, ``P1M`` or ``P1DT12H``."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0
    # The exact part as a timedelta, computed once: windows add periods to every past contact.
    _delta: timedelta = field(init=False, repr=False, compare=False, default=timedelta())

    def __post_init__(self) -> None:
        values = [getattr(self, name) for name in _FIELDS]
        if any(value < 0 for value in values):
            raise ValueError("a period cannot have a negative part")
        if self.weeks and any(values[:2] + values[3:]):
            raise ValueError("a period in weeks (PnW) cannot have other parts")
        if not any(values):
            raise ValueError("a period must be longer than zero")
        if self._longest_seconds() > _LONGEST_SECONDS:
            raise ValueError(f"a period may be at most {_LONGEST_YEARS} years long")
        object.__setattr__(self, "_delta", self._exact())

    @classmethod
    def parse(cls, text: str) -> Self:
        """Read ``P30D``, ``P1M``, ``P1Y``, ``PT24H``, ``P1DT12H``, ``P2W`` and the like.

        Only whole numbers and upper-case designators: fractions, signs and spaces are
        refused with a ``ValueError`` that quotes the text.
        """
        found = None
        if len(text) <= _LONGEST_TEXT:
            found = _WEEK_FORM.fullmatch(text) or _FULL_FORM.fullmatch(text)
        if found is None:
            raise ValueError(
                f"{text!r} is not an ISO 8601 duration such as P30D, P1M, P1Y, PT24H, "
                "P1DT12H or P2W (whole numbers, upper-case letters)"
            )
        parts = {name: int(value) for name, value in found.groupdict().items() if value}
        try:
            return cls(**parts)
        except ValueError as error:
            raise ValueError(f"{text!r}: {error}") from None

    @property
    def is_exact(self) -> bool:
        """No calendar part: the same elapsed time wherever it is added, so ``x + P > t``
        holds exactly when ``x > t - P`` (not so for months: Jan 31 + P1M is Feb 28)."""
        return not (self.years or self.months)

    def add_to(self, moment: datetime) -> datetime:
        """The instant one period after ``moment`` (months clamped to the month's end)."""
        shifted = _shift_months(_aware(moment), self.years * 12 + self.months)
        return _shift_exactly(shifted, self._delta)

    def subtract_from(self, moment: datetime) -> datetime:
        """The instant one period before ``moment`` (months clamped to the month's end)."""
        shifted = _shift_months(_aware(moment), -(self.years * 12 + self.months))
        return _shift_exactly(shifted, -self._delta)

    def __str__(self) -> str:
        if self.weeks:
            return f"P{self.weeks}W"
        date_part = "".join(
            f"{value}{unit}"
            for value, unit in ((self.years, "Y"), (self.months, "M"), (self.days, "D"))
            if value
        )
        time_part = "".join(
            f"{value}{unit}"
            for value, unit in ((self.hours, "H"), (self.minutes, "M"), (self.seconds, "S"))
            if value
        )
        return f"P{date_part}" + (f"T{time_part}" if time_part else "")

    def _exact(self) -> timedelta:
        return timedelta(
            weeks=self.weeks,
            days=self.days,
            hours=self.hours,
            minutes=self.minutes,
            seconds=self.seconds,
        )

    def _longest_seconds(self) -> int:
        """An upper bound on the span: every year a leap year, every month 31 days."""
        days = self.years * 366 + self.months * 31 + self.weeks * 7 + self.days
        return ((days * 24 + self.hours) * 60 + self.minutes) * 60 + self.seconds


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone; periods need aware times")
    return moment


def _shift_months(moment: datetime, months: int) -> datetime:
    if not months:
        return moment
    year, month_index = divmod(moment.year * 12 + moment.month - 1 + months, 12)
    month = month_index + 1
    day = min(moment.day, monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _shift_exactly(moment: datetime, delta: timedelta) -> datetime:
    if not delta:
        return moment
    if moment.tzinfo is UTC:  # the usual case: no wall clock to convert through
        return moment + delta
    return (moment.astimezone(UTC) + delta).astimezone(moment.tzinfo)
