"""An existing business relationship, as an exception some rules make to what they require.

Several laws let a business contact its own customers without the consent they otherwise
need: the ePrivacy soft opt-in (Directive 2002/58/EC Art 13(2)), LSSI Art 21.2 in Spain,
CASL's implied consent (S.C. 2010, c. 23, s.10(9)-(10)) and FCRA's pre-existing business
relationship (12 CFR 1022.20(b)(4), 1022.21(c)(1)). Each says which dealings count and for
how long: a purchase within 2 years, an inquiry within 6 months, and so on. A rule names
that as ``or_relationship = { purchase = "P2Y", inquiry = "P6M" }``; ``"ever"`` means any
purchase (or inquiry) on record, for laws that set no time limit.

A window is counted on the instant: a purchase at ``t`` with ``purchase = "P2Y"`` counts
for a contact up to and including ``t`` plus two calendar years, to the second. The
statutes count "the period immediately before the day on which the message was sent", so
this reading ends the relationship a few hours earlier on its last day, never later.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import PlainSerializer, PlainValidator, model_validator

from policy.facts import Facts
from policy.kinds.base import Params, day, instant
from policy.periods import Period

EVER: Literal["ever"] = "ever"
# What a ``*_holds_until`` answers for what time alone never ends.
FOREVER = datetime.max.replace(tzinfo=UTC)
# The smallest step of an instant: a window that includes its last instant ends just after.
INSTANT = timedelta(microseconds=1)


def _lookback_from_text(value: object) -> Period | Literal["ever"]:
    if isinstance(value, Period):
        return value
    if value == EVER:
        return EVER
    if not isinstance(value, str):
        raise ValueError(f"should be text such as 'P2Y' or 'ever', not {type(value).__name__}")
    return Period.parse(value)


Lookback = Annotated[
    Period | Literal["ever"], PlainValidator(_lookback_from_text), PlainSerializer(str)
]


class RelationshipParams(Params):
    """Which dealings make a relationship, and how far back each may be."""

    purchase: Lookback | None = None  # a purchase, rental, lease or contract
    inquiry: Lookback | None = None  # an inquiry or application by the customer

    @model_validator(mode="after")
    def _names_something(self) -> "RelationshipParams":
        if self.purchase is None and self.inquiry is None:
            raise ValueError("name at least one of purchase or inquiry, with a period or 'ever'")
        return self


def relationship_gap(facts: Facts, params: RelationshipParams) -> str | None:
    """Why no relationship of this kind holds at send time, or None if one does."""
    dealings = (
        ("purchase", params.purchase, facts.relationship.last_purchase_at),
        ("inquiry", params.inquiry, facts.relationship.last_inquiry_at),
    )
    found = [
        _dealing_gap(name, lookback, at, facts.send_at)
        for name, lookback, at in dealings
        if lookback is not None
    ]
    if any(gap is None for gap in found):
        return None
    return " and ".join(gap for gap in found if gap is not None)


def _dealing_gap(
    name: str, lookback: Period | Literal["ever"], at: datetime | None, send_at: datetime
) -> str | None:
    within = f"within {lookback}" if isinstance(lookback, Period) else "on record"
    if at is None or at > send_at:  # a dealing after the send time did not exist at it
        return f"no {name} {within} before the send time"
    if not isinstance(lookback, Period):  # "ever": any dealing on record counts
        return None
    ends = lookback.add_to(at)
    if send_at <= ends:
        return None
    return f"the last {name} was on {day(at)}, so its {lookback} window ended at {instant(ends)}"


def relationship_holds_until(facts: Facts, params: RelationshipParams) -> datetime:
    """The first instant from which no dealing of these kinds counts any more: ``FOREVER``
    for a dealing on record under ``"ever"``, send_at or earlier if none counts at it."""
    relationship = facts.relationship
    ends = [facts.send_at]
    for lookback, at in (
        (params.purchase, relationship.last_purchase_at),
        (params.inquiry, relationship.last_inquiry_at),
    ):
        if lookback is None or at is None or at > facts.send_at:
            continue
        ends.append(lookback.add_to(at) + INSTANT if isinstance(lookback, Period) else FOREVER)
    return max(ends)


def lapse(end: datetime) -> datetime | None:
    """A kind's ``lapses_at`` from the first instant its allow no longer holds."""
    return None if end == FOREVER else end
