"""What every requirement kind shares: its parameters' base, field types and reasons.

A kind is a pydantic model for its ``[rules.params]`` table and a small function
``(facts, params, rule) -> Reason | None`` that returns ``None`` when the requirement is
met and otherwise one ``Reason`` that says what is missing.
"""

from datetime import UTC, datetime, time
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, Strict

from policy.periods import Period
from policy.reasons import Reason
from policy.vocabulary import Purpose


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

    def __hash__(self) -> int:
        # Frozen, so hashable (rules are cached by their params); a table param (a dict)
        # is hashed as its sorted items, which pydantic's own hash cannot do.
        return hash(tuple(_hashable(value) for value in self.__dict__.values()))

    def lookback(self) -> Period | None:
        """How far back the contact history must reach for this rule; None: not at all."""
        return None


def _hashable(value: object) -> object:
    return tuple(sorted(value.items())) if isinstance(value, dict) else value


def _period_from_text(value: object) -> Period:
    if isinstance(value, Period):
        return value
    if not isinstance(value, str):
        raise ValueError(f"should be text such as 'P30D', not {type(value).__name__}")
    return Period.parse(value)


# Pack files hold text, so enums and arrays are read from strings and lists.
PurposeField = Annotated[Purpose, Strict(False)]
Purposes = Annotated[tuple[PurposeField, ...], Strict(False), Field(min_length=1)]
_NoticeKind = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
NoticeKinds = Annotated[tuple[_NoticeKind, ...], Strict(False), Field(min_length=1)]
PeriodField = Annotated[Period, PlainValidator(_period_from_text), PlainSerializer(str)]


def _time_from_text(value: object) -> time:
    if isinstance(value, time):  # a TOML local time, 08:00:00
        return value
    if not isinstance(value, str):
        raise ValueError(f"should be a local time such as 08:00, not {type(value).__name__}")
    return time.fromisoformat(value)


LocalTime = Annotated[time, PlainValidator(_time_from_text), PlainSerializer(str)]


def deny(
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


def day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")
