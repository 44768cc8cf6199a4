"""Kinds about the contacts already made: the law's own frequency caps."""

from typing import Annotated

from pydantic import Field, Strict

from policy.facts import Facts
from policy.kinds.base import Params, PeriodField, RuleIdentity, deny, instant
from policy.periods import Period
from policy.reasons import Reason
from policy.vocabulary import Channel
from policy.windows import exceeds, next_free_slot

_Channels = Annotated[
    tuple[Annotated[Channel, Strict(False)], ...], Strict(False), Field(min_length=1)
]


class MaxContactsParams(Params):
    """At most ``count`` contacts by ``channels`` in any rolling ``period``.

    With ``same_purpose`` only contacts for the purpose of this one count: the state laws
    cap calls "on the same subject matter", and a purpose is the subject the gate knows.
    With ``attempts`` (the default) a contact reported ``failed`` still counts: the caps
    count calls made, and an unanswered call was made (France's D. 223-9 says "attempts
    included"). Only ``cancelled`` gives the slot back.
    """

    count: int = Field(ge=1)
    period: PeriodField
    channels: _Channels
    same_purpose: bool = True
    attempts: bool = True

    def lookback(self) -> Period | None:
        return self.period


def max_contacts(facts: Facts, params: MaxContactsParams, rule: RuleIdentity) -> Reason | None:
    """Fewer than ``count`` contacts already in every window of ``period`` around send time."""
    existing = [
        contact.send_at
        for contact in facts.recent_contacts
        if contact.channel in params.channels
        and (not params.same_purpose or contact.purpose is facts.purpose)
        and (params.attempts or contact.reserved)
    ]
    if not exceeds(params.count, params.period, existing, facts.send_at):
        return None
    free = next_free_slot(params.count, params.period, existing, facts.send_at)
    channels = " or ".join(params.channels)
    subject = f" for {facts.purpose}" if params.same_purpose else ""
    then = f"; allowed from {instant(free)}" if free is not None else ""
    return deny(
        rule,
        [
            f"{params.count} contact(s) by {channels}{subject} are already made or planned "
            f"within {params.period}{then}"
        ],
        earliest_allowed_at=free,
    )
