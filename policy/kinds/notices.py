"""Kinds about privacy notices: whether, and how long ago, one was delivered."""

from datetime import datetime

from policy.facts import Facts
from policy.kinds.base import NoticeKinds, Params, PeriodField, RuleIdentity, deny, instant
from policy.kinds.relationships import (
    INSTANT,
    RelationshipParams,
    lapse,
    relationship_gap,
    relationship_holds_until,
)
from policy.reasons import Reason


class NoticeElapsedParams(Params):
    notice_kinds: NoticeKinds
    period: PeriodField
    # No notice is needed while this relationship holds (FCRA's pre-existing business
    # relationship exception, 12 CFR 1022.21(c)(1)).
    or_relationship: RelationshipParams | None = None


class NoticeWithinParams(Params):
    notice_kinds: NoticeKinds
    period: PeriodField


class NoticeGivenParams(Params):
    notice_kinds: NoticeKinds


def notice_given(facts: Facts, params: NoticeGivenParams, rule: RuleIdentity) -> Reason | None:
    """A notice of one of the kinds was delivered at or before send time, with no wait after.

    12 CFR 1016.13(a)(1)(i): a disclosure to a service provider needs the initial notice to
    have been given, but no opportunity to opt out first.
    """
    if _delivered(facts, params.notice_kinds):
        return None
    kinds = " or ".join(params.notice_kinds)
    return deny(rule, [f"no {kinds} notice was delivered by the send time"])


def notice_elapsed(facts: Facts, params: NoticeElapsedParams, rule: RuleIdentity) -> Reason | None:
    """A notice of one of the kinds was delivered at least one period before send time.

    The period runs from the first delivery at or before send time; at exactly delivery
    plus the period the contact is allowed. When only the clock stands in the way, the
    reason says from when it is allowed.
    """
    gap, allowed_from = _elapsed_gap(facts, params)
    if gap is None:
        return None
    gaps = [gap]
    if params.or_relationship is not None:
        other = relationship_gap(facts, params.or_relationship)
        if other is None:
            return None
        gaps.append(f"and no relationship exception applies: {other}")
    return deny(rule, gaps, earliest_allowed_at=allowed_from)


def notice_elapsed_lapses_at(facts: Facts, params: NoticeElapsedParams) -> datetime | None:
    """A notice's wait never starts again; only a relationship standing in for it while the
    wait runs can end first (FCRA: a purchase 18 months old on day 10 of the 30)."""
    gap, allowed_from = _elapsed_gap(facts, params)
    if gap is None or params.or_relationship is None:
        return None
    ends = relationship_holds_until(facts, params.or_relationship)
    if allowed_from is not None and allowed_from <= ends:  # the wait is over by then
        return None
    return lapse(ends)


def _elapsed_gap(facts: Facts, params: NoticeElapsedParams) -> tuple[str | None, datetime | None]:
    kinds = " or ".join(params.notice_kinds)
    delivered = _delivered(facts, params.notice_kinds)
    if not delivered:
        return f"no {kinds} notice was delivered by the send time", None
    first = min(delivered)
    allowed_from = params.period.add_to(first)
    if facts.send_at >= allowed_from:
        return None, None
    return (
        f"the {kinds} notice was delivered at {instant(first)} and the {params.period} "
        f"period runs until {instant(allowed_from)}"
    ), allowed_from


def notice_within(facts: Facts, params: NoticeWithinParams, rule: RuleIdentity) -> Reason | None:
    """A notice of one of the kinds was delivered no more than one period before send time.

    12 CFR 1016.5(a)(1): "at least once in any period of 12 consecutive months". A delivery
    at ``t`` covers contacts up to and including ``t`` plus the period, on the calendar
    (29 February plus P12M is 28 February). Only a new notice helps, so no time is given.
    """
    kinds = " or ".join(params.notice_kinds)
    delivered = _delivered(facts, params.notice_kinds)
    if not delivered:
        return deny(rule, [f"no {kinds} notice was delivered by the send time"])
    last = max(delivered)
    covered_until = params.period.add_to(last)
    if facts.send_at <= covered_until:
        return None
    return deny(
        rule,
        [
            f"the last {kinds} notice was delivered at {instant(last)}, so its {params.period} "
            f"ended at {instant(covered_until)}"
        ],
    )


def _delivered(facts: Facts, kinds: tuple[str, ...]) -> list[datetime]:
    """Deliveries of the kinds at or before send time: a later one did not exist at it."""
    return [at for kind in kinds for at in facts.notices.get(kind, ()) if at <= facts.send_at]


def notice_within_lapses_at(facts: Facts, params: NoticeWithinParams) -> datetime | None:
    """Just after the last notice's period ends: then only a new notice allows again."""
    delivered = _delivered(facts, params.notice_kinds)
    return params.period.add_to(max(delivered)) + INSTANT if delivered else None
