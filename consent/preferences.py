"""Channel preferences as values: status, direction, frequency limits and quiet hours."""

from dataclasses import dataclass, field
from datetime import time
from functools import lru_cache

from policy.fast_init import fast_init
from policy.periods import Period
from policy.vocabulary import Channel, Direction, PreferenceChannel, PreferenceStatus

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = datetime.weekday()


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``count`` contacts in any rolling ``period``."""

    count: int
    period: Period


@fast_init
@dataclass(frozen=True, slots=True)
class QuietHours:
    """No contact from ``start`` to ``end`` local time on the given weekdays.

    ``end`` at or before ``start`` crosses midnight: the period starts on a listed day and
    ends the next morning (``fri 21:00 - 08:00`` covers Friday night into Saturday).
    """

    days: frozenset[int]  # 0 = Monday, as datetime.weekday()
    start: time
    end: time


@fast_init
@dataclass(frozen=True, slots=True)
class ChannelPreference:
    channel: PreferenceChannel
    status: PreferenceStatus = PreferenceStatus.NOT_ASKED
    direction: Direction = Direction.OUTBOUND
    limits: tuple[Limit, ...] = ()
    quiet_hours: tuple[QuietHours, ...] = field(default=())
    source: str | None = None


# Dicts, not Enum calls or a new value each time: a check asks for a channel's preference
# five times, and on Python 3.11 an Enum call or a frozen dataclass costs some thousand
# instructions (callgrind).
_GOVERNING = {channel: PreferenceChannel(channel.value) for channel in Channel}
_UNSET = {channel: ChannelPreference(channel=channel) for channel in PreferenceChannel}


def governing_channel(channel: Channel) -> PreferenceChannel:
    """The preference channel that governs contact by ``channel`` (it has the same name)."""
    return _GOVERNING[channel]


def unset_preference(channel: PreferenceChannel) -> ChannelPreference:
    """What holds on a channel the customer never set: not asked, outbound, no limits."""
    return _UNSET[channel]


def limits_to_json(limits: tuple[Limit, ...]) -> list[dict[str, object]]:
    return [{"count": limit.count, "period": str(limit.period)} for limit in limits]


def limits_from_json(raw: list[dict[str, object]]) -> tuple[Limit, ...]:
    return tuple(_stored_limit(int(str(item["count"])), str(item["period"])) for item in raw)


# Every check of a customer whose state is not memoised reads its limits again, and parsing
# a period (a regular expression, a validated dataclass) was a quarter of decoding a state
# (5 of 22 us). Limits are immutable and the stored texts few ("P1D", "P7D", ...).
@lru_cache(maxsize=1_024)
def _stored_limit(count: int, period: str) -> Limit:
    return Limit(count, Period.parse(period))


def quiet_hours_to_json(windows: tuple[QuietHours, ...]) -> list[dict[str, object]]:
    return [
        {
            "days": [WEEKDAYS[day] for day in sorted(window.days)],
            "start": window.start.strftime("%H:%M"),
            "end": window.end.strftime("%H:%M"),
        }
        for window in windows
    ]


def quiet_hours_from_json(raw: list[dict[str, object]]) -> tuple[QuietHours, ...]:
    return tuple(
        QuietHours(
            days=frozenset(WEEKDAYS.index(str(day)) for day in item["days"]),  # type: ignore[attr-defined]
            start=time.fromisoformat(str(item["start"])),
            end=time.fromisoformat(str(item["end"])),
        )
        for item in raw
    )


def preference_to_json(pref: ChannelPreference) -> dict[str, object]:
    """A preference as stored in the customer's state and shown in their profile."""
    return {
        "status": str(pref.status),
        "direction": str(pref.direction),
        "limits": limits_to_json(pref.limits),
        "quiet_hours": quiet_hours_to_json(pref.quiet_hours),
        "source": pref.source,
    }
