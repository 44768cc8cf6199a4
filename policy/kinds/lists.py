"""Kinds about suppression lists: do-not-call registries and advertising exclusion lists.

A list is loaded as a copy dated by its source (``Facts.lists``); the gate says whether the
contact's identifier is on it. A rule of this kind denies for one of three reasons, each
with an id of its own so that a client can tell "refresh the copy" from "do not contact":

- ``<rule id>``: the identifier is on the list;
- ``<rule id>.copy_missing``: no copy is loaded, so the list cannot be consulted (fail closed);
- ``<rule id>.copy_stale``: the copy is older than the rule's ``max_age`` (fail closed).

Where the law exempts a contact from the list (consent to this sender, an established
business relationship), the list is not consulted at all, so its copy does not matter.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Annotated

from pydantic import Field, Strict, model_validator

from policy.facts import Facts
from policy.kinds.base import PeriodField, RuleIdentity, deny
from policy.kinds.consents import AgeParams, consent_gap
from policy.periods import Period
from policy.reasons import Reason
from policy.vocabulary import Channel

LIST_NAME_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
COPY_MISSING = "copy_missing"
COPY_STALE = "copy_stale"


class ListException(StrEnum):
    """Why a contact may be made although the identifier is on the list."""

    # 47 CFR 64.1200(f)(5), (f)(15)(ii): a purchase or an inquiry not long ago.
    ESTABLISHED_BUSINESS_RELATIONSHIP = "established_business_relationship"
    # 47 CFR 64.1200(c)(2)(ii): a signed, written agreement to be called by this seller.
    WRITTEN_CONSENT = "written_consent"
    # LOPDGDD Art 23(4) para 2: consent to receive the communication from this sender.
    CONSENT = "consent"


_ListName = Annotated[str, Field(pattern=LIST_NAME_PATTERN)]
_Exceptions = Annotated[tuple[Annotated[ListException, Strict(False)], ...], Strict(False)]
_ListNames = Annotated[tuple[_ListName, ...], Strict(False)]


class NotListedParams(AgeParams):
    """The contact's identifier is not on ``list``, unless an exception applies. A consent
    exempts only if given at the age of consent (``min_age``), where the rule sets one."""

    list: _ListName
    # How old the loaded copy may be on the day of the contact (P31D: 64.1200(c)(2)(i)(D)).
    max_age: PeriodField | None = None
    # With no copy loaded the list cannot be consulted: deny. Off only for a list that is
    # ours alone, where no copy means no entry (the seller's own do-not-call list).
    require_copy: bool = True
    exceptions: _Exceptions = ()
    # The established business relationship: how long after a purchase and an inquiry.
    purchase_within: PeriodField | None = None
    inquiry_within: PeriodField | None = None
    # Lists whose entry ends that relationship (64.1200(f)(5)(i): a do-not-call request).
    relationship_ended_by: _ListNames = ()

    @model_validator(mode="after")
    def _relationship_needs_its_periods(self) -> "NotListedParams":
        relationship = ListException.ESTABLISHED_BUSINESS_RELATIONSHIP in self.exceptions
        periods_given = self.purchase_within is not None and self.inquiry_within is not None
        if relationship and not periods_given:
            raise ValueError(
                "the established_business_relationship exception needs purchase_within "
                "and inquiry_within"
            )
        extras = (self.purchase_within, self.inquiry_within, *self.relationship_ended_by)
        if not relationship and any(value is not None for value in extras):
            raise ValueError(
                "purchase_within, inquiry_within and relationship_ended_by belong with the "
                "established_business_relationship exception"
            )
        return self


def not_listed(facts: Facts, params: NotListedParams, rule: RuleIdentity) -> Reason | None:
    """Not on the list, or exempt from it; a missing or stale copy fails closed."""
    if any(_exempt(facts, params, exception) for exception in params.exceptions):
        return None
    copy = facts.lists.get(params.list)
    if copy is None:
        if not params.require_copy:
            return None
        return _deny_as(
            rule,
            COPY_MISSING,
            f"no copy of the {params.list} list is loaded, so it cannot be consulted",
        )
    gaps = []
    if copy.listed:
        since = f" since {copy.listed_on}" if copy.listed_on is not None else ""
        gaps.append(f"the {_identifier(facts.channel)} is on the {params.list} list{since}")
    if params.max_age is not None and facts.send_at >= stale_from(copy.source_date, params.max_age):
        gaps.append(
            f"the {params.list} copy loaded is dated {copy.source_date}, more than "
            f"{params.max_age} before the day of the contact; load a fresh copy"
        )
        if not copy.listed:
            return _deny_as(rule, COPY_STALE, gaps[0])
    return deny(rule, gaps)


def copy_goes_stale(facts: Facts, params: NotListedParams) -> datetime | None:
    """When an allow stops holding because the list's copy is too old to consult."""
    copy = facts.lists.get(params.list)
    if copy is None or params.max_age is None:
        return None
    return stale_from(copy.source_date, params.max_age)


@lru_cache(maxsize=256)  # one copy serves every check: the same answer each time
def stale_from(source_date: date, max_age: Period) -> datetime:
    """The first instant the copy is too old: the day after ``source_date + max_age``, UTC.

    64.1200(c)(2)(i)(D): a copy obtained "no more than 31 days prior to the date any call is
    made", so a copy of 1 March serves calls through 1 April. Days are UTC days, as the
    engine judges effective dates; for US numbers, all behind UTC, that is the stricter one.
    """
    obtained = datetime.combine(source_date, time(0), tzinfo=UTC)
    return max_age.add_to(obtained) + timedelta(days=1)


def _exempt(facts: Facts, params: NotListedParams, exception: ListException) -> bool:
    if exception is ListException.ESTABLISHED_BUSINESS_RELATIONSHIP:
        return _relationship(facts, params)
    if consent_gap(facts, facts.purpose, params) is not None:
        return False
    if exception is ListException.WRITTEN_CONSENT:
        return facts.consents[facts.purpose].written
    return True


def _relationship(facts: Facts, params: NotListedParams) -> bool:
    """A purchase or an inquiry recent enough, not ended by a do-not-call request.

    47 CFR 64.1200(f)(5): "within the eighteen (18) months immediately preceding the date
    of the telephone call" (three months for an inquiry). Here the window is exact to the
    second and ends at its last instant: at purchase + 18 months the exception has lapsed.
    """
    for name in params.relationship_ended_by:
        ended = facts.lists.get(name)
        if ended is not None and ended.listed:
            return False
    rel = facts.relationship
    windows = (
        (rel.last_purchase_at, params.purchase_within),
        (rel.last_inquiry_at, params.inquiry_within),
    )
    return any(
        at is not None and period is not None and at <= facts.send_at < period.add_to(at)
        for at, period in windows
    )


def _identifier(channel: Channel | None) -> str:
    if channel in (Channel.PHONE, Channel.SMS):
        return "phone number"
    if channel is Channel.EMAIL:
        return "email address"
    return f"{channel} address" if channel is not None else "identifier"


@dataclass(frozen=True, slots=True)
class _SubReason:
    """The rule under the id of one of its own reasons (``<rule id>.copy_stale``)."""

    id: str
    regime: str
    citation: str
    message: str


def _deny_as(rule: RuleIdentity, suffix: str, gap: str) -> Reason | None:
    sub = _SubReason(f"{rule.id}.{suffix}", rule.regime, rule.citation, rule.message)
    return deny(sub, [gap])
