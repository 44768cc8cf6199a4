"""Kinds about privacy notices: how long ago one was delivered."""

from policy.facts import Facts
from policy.kinds.base import NoticeKinds, Params, PeriodField, RuleIdentity, deny, instant
from policy.reasons import Reason


class NoticeElapsedParams(Params):
    notice_kinds: NoticeKinds
    period: PeriodField


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
        return deny(rule, [f"no {kinds} notice was delivered by the send time"])
    first = min(delivered)
    allowed_from = params.period.add_to(first)
    if facts.send_at >= allowed_from:
        return None
    return deny(
        rule,
        [
            f"the {kinds} notice was delivered at {instant(first)} and the {params.period} "
            f"period runs until {instant(allowed_from)}"
        ],
        earliest_allowed_at=allowed_from,
    )
