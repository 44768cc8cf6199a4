"""What a rule can require: a closed vocabulary of requirement kinds.

Each kind is a pydantic model for its ``[rules.params]`` table and a small function
``(facts, params, rule) -> Reason | None`` that returns ``None`` when the requirement is
met and otherwise one ``Reason`` that says what is missing. A pack can only name a kind
listed in ``REQUIREMENTS``; adding a kind is a code change, reviewed like one.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    Strict,
    model_validator,
)

from policy.facts import Facts
from policy.periods import Period
from policy.reasons import Reason
from policy.vocabulary import ConsentStatus, PreferenceStatus, Purpose


class RequirementKind(StrEnum):
    CONSENT = "consent"
    NO_OBJECTION = "no_objection"
    NO_OPT_OUT = "no_opt_out"
    NOTICE_ELAPSED = "notice_elapsed"
    LOCAL_HOURS = "local_hours"


class RuleIdentity(Protocol):
    """What a requirement needs of its rule to say why it denies."""

    @property
    def id(self) -> str: ...
    @property
    def regime(self) -> str: ...
    @property
    def citation(self) -> str: ...
    @property
    def message(self) -> str: ...


class Params(BaseModel):
    """Base of every kind's parameters: strict, closed and immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _period_from_text(value: object) -> Period:
    if isinstance(value, Period):
        return value
    if not isinstance(value, str):
        raise ValueError(f"should be text such as 'P30D', not {type(value).__name__}")
    return Period.parse(value)


# Pack files hold text, so enums and arrays are read from strings and lists.
_Purpose = Annotated[Purpose, Strict(False)]
_Purposes = Annotated[tuple[_Purpose, ...], Strict(False), Field(min_length=1)]
_NoticeKind = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
_NoticeKinds = Annotated[tuple[_NoticeKind, ...], Strict(False), Field(min_length=1)]
_Period = Annotated[Period, PlainValidator(_period_from_text), PlainSerializer(str)]


class ConsentParams(Params):
    purpose: _Purpose
    channel_opt_in: bool = False


class NoObjectionParams(Params):
    purposes: _Purposes


class NoOptOutParams(Params):
    purpose: _Purpose


class NoticeElapsedParams(Params):
    notice_kinds: _NoticeKinds
    period: _Period


def _time_from_text(value: object) -> time:
    if isinstance(value, time):  # a TOML local time, 08:00:00
        return value
    if not isinstance(value, str):
        raise ValueError(f"should be a local time such as 08:00, not {type(value).__name__}")
    return time.fromisoformat(value)


_LocalTime = Annotated[time, PlainValidator(_time_from_text), PlainSerializer(str)]


class LocalHoursParams(Params):
    """Contacts only from ``start`` up to (not including) ``end``, local time."""

    start: _LocalTime
    end: _LocalTime

    @model_validator(mode="after")
    def _start_before_end(self) -> "LocalHoursParams":
        if not self.start < self.end:
            raise ValueError("start must be before end (windows across midnight are not law here)")
        return self


def consent(facts: Facts, params: ConsentParams, rule: RuleIdentity) -> Reason | None:
    """A granted consent for the purpose, in force at send time; and the channel opted in."""
    gaps = [_consent_gap(facts, params.purpose)]
    if params.channel_opt_in:
        gaps.append(_channel_gap(facts))
    return _deny(rule, [gap for gap in gaps if gap is not None])


def no_objection(facts: Facts, params: NoObjectionParams, rule: RuleIdentity) -> Reason | None:
    """No objection on record for any of the purposes (GDPR Art 21(3): it is absolute)."""
    return _deny(
        rule,
        [
            f"customer objected to {purpose} on {_day(record.captured_at)}"
            for purpose in params.purposes
            if (record := facts.consents.get(purpose)) is not None
            and record.status is ConsentStatus.OBJECTED
        ],
    )


def no_opt_out(facts: Facts, params: NoOptOutParams, rule: RuleIdentity) -> Reason | None:
    """No withdrawal or objection on record; an opt-out never expires on its own.

    12 CFR 1016.7(i)(1): the direction holds until the consumer revokes it, so the record's
    expiry, if one was set, is ignored here.
    """
    record = facts.consents.get(params.purpose)
    if record is None or record.status is ConsentStatus.GRANTED:
        return None
    return _deny(
        rule,
        [
            f"customer opted out of {params.purpose} on {_day(record.captured_at)}, "
            "which holds until they revoke it"
        ],
    )


def notice_elapsed(facts: Facts, params: NoticeElapsedParams, rule: RuleIdentity) -> Reason | None:
    """A notice of one of the kinds was delivered at least one period before send time.

    The period runs from the first delivery at or before send time; at exactly delivery
    plus the period the contact is allowed. When only the clock stands in the way, the
    reason says from when it is allowed.
    """
    kinds = " or ".join(params.notice_kinds)
    delivered = [
        at
        for kind in params.notice_kinds
        for at in facts.notices.get(kind, ())
        if at <= facts.send_at
    ]
    if not delivered:
        return _deny(rule, [f"no {kinds} notice was delivered by the send time"])
    first = min(delivered)
    allowed_from = params.period.add_to(first)
    if facts.send_at >= allowed_from:
        return None
    return _deny(
        rule,
        [
            f"the {kinds} notice was delivered at {_instant(first)} and the {params.period} "
            f"period runs until {_instant(allowed_from)}"
        ],
        earliest_allowed_at=allowed_from,
    )


def local_hours(facts: Facts, params: LocalHoursParams, rule: RuleIdentity) -> Reason | None:
    """Within the hours in the called party's local time, in every zone they may be in.

    Where the zone is uncertain (a number whose area spans zones) the most restrictive
    reading wins: the contact must be within the hours in all of them. Where it is unknown
    the rule fails closed. ``end`` itself is outside: "no calls after 9 pm" allows none at 21:00.
    """
    if not facts.time_zones:
        return _deny(rule, ["the customer's local time is unknown (no time zone, no phone area)"])
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
    return _deny(
        rule,
        [
            f"it is {local:%H:%M} in {zone}, outside {params.start:%H:%M}-{params.end:%H:%M}; "
            f"allowed from {_instant(opens)}"
        ],
        earliest_allowed_at=opens,
    )


def _next_opening(local: datetime, start: time) -> datetime:
    """The next local ``start`` at or after ``local``, as a UTC instant (DST-aware)."""
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=local.tzinfo).astimezone(UTC)


def _consent_gap(facts: Facts, purpose: Purpose) -> str | None:
    record = facts.consents.get(purpose)
    if record is None:
        return f"no consent recorded for {purpose}"
    if record.status is ConsentStatus.WITHDRAWN:
        return f"consent for {purpose} withdrawn on {_day(record.captured_at)}"
    if record.status is ConsentStatus.OBJECTED:
        return f"customer objected to {purpose} on {_day(record.captured_at)}"
    if not record.in_force(facts.send_at):
        on = f" on {_day(record.expires_at)}" if record.expires_at is not None else ""
        return f"consent for {purpose} expired{on}"
    if record.captured_at > facts.send_at:
        # Prior consent: a grant recorded after the send time did not exist at it.
        return f"consent for {purpose} only given on {_day(record.captured_at)}, after send time"
    return None


def _channel_gap(facts: Facts) -> str | None:
    if facts.channel_status is PreferenceStatus.OPTED_IN:
        return None
    channel = f"{facts.channel} channel" if facts.channel is not None else "channel"
    if facts.channel_status is PreferenceStatus.OPTED_OUT:
        return f"{channel} not opted in (customer opted out)"
    # RULES.md: unknown is deny; a customer never asked has not opted in.
    return f"{channel} not opted in (customer never asked)"


def _deny(
    rule: RuleIdentity, gaps: list[str], earliest_allowed_at: datetime | None = None
) -> Reason | None:
    if not gaps:
        return None
    detail = "; ".join(gaps)
    return Reason(
        rule=rule.id,
        regime=rule.regime,
        citation=rule.citation,
        message=f"{rule.message} {detail[0].upper()}{detail[1:]}.",
        earliest_allowed_at=earliest_allowed_at,
    )


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


P = TypeVar("P", bound=Params)


@dataclass(frozen=True, slots=True)
class Requirement(Generic[P]):
    params_model: type[P]
    check: Callable[[Facts, P, RuleIdentity], Reason | None]


REQUIREMENTS: Mapping[RequirementKind, Requirement[Any]] = {
    RequirementKind.CONSENT: Requirement(ConsentParams, consent),
    RequirementKind.NO_OBJECTION: Requirement(NoObjectionParams, no_objection),
    RequirementKind.NO_OPT_OUT: Requirement(NoOptOutParams, no_opt_out),
    RequirementKind.NOTICE_ELAPSED: Requirement(NoticeElapsedParams, notice_elapsed),
    RequirementKind.LOCAL_HOURS: Requirement(LocalHoursParams, local_hours),
}
