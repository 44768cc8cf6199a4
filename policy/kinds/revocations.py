"""Kinds about a customer's request to stop: STOP replies and do-not-call requests.

47 CFR 64.1200(a)(10) (in force from 2025-04-11): consent to calls and texts may be revoked
"using any reasonable method"; a reply of "stop", "quit", "end", "revoke", "opt out",
"cancel" or "unsubscribe" to a text is one, and other words a reasonable person would read
as a request to stop count as well. The request must be honoured within ten business days
of receipt (and a do-not-call request likewise, 64.1200(d)(3)); the gate honours it from
the moment it is recorded, which is within any such deadline.
"""

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Annotated

from pydantic import Strict

from policy.facts import ConsentFact, Facts, RevocationFact
from policy.kinds.base import Params, RuleIdentity, day, deny
from policy.reasons import Reason
from policy.vocabulary import Channel, Purpose

# 47 CFR 64.1200(a)(10): the words that revoke consent when sent in reply to a text.
STANDARD_KEYWORDS = ("STOP", "QUIT", "END", "REVOKE", "OPT OUT", "CANCEL", "UNSUBSCRIBE")
_NOT_A_LETTER = re.compile(r"[\W_]+")
_BY_FOLDED = {_NOT_A_LETTER.sub("", word.casefold()): word for word in STANDARD_KEYWORDS}


def standard_keyword(words: str) -> str | None:
    """The standard keyword these words are, ignoring case, spaces and punctuation
    ("Opt-Out", " stop! "); None for any other words, which still revoke (any reasonable
    means counts) but are not one of the rule's own examples."""
    return _BY_FOLDED.get(_NOT_A_LETTER.sub("", words.casefold()))


def superseded(revocation: RevocationFact, consent: ConsentFact | None, at: datetime) -> bool:
    """A grant captured after the revocation was recorded, in force at ``at`` and given by
    then, is the customer's later word: it supersedes the revocation for its purpose."""
    # A record of another basis (grants_consent_at) is no new consent to contact.
    return (
        consent is not None
        and consent.grants_consent_at(at)
        and revocation.recorded_at < consent.captured_at
    )


def standing_revocations(
    revocations: Iterable[RevocationFact],
    channels: Iterable[Channel],
    purpose: Purpose,
    consents: Mapping[Purpose, ConsentFact],
    at: datetime,
) -> list[RevocationFact]:
    """The revocations made on ``channels`` that still stop a contact for ``purpose``.

    A revocation holds for every contact decided once it is on record, whatever its send
    time, as a withdrawal does: fail closed, a past ``send_at`` is no way around a STOP.
    """
    wanted = frozenset(channels)
    consent = consents.get(purpose)
    return [r for r in revocations if r.channel in wanted and not superseded(r, consent, at)]


def describe(revocation: RevocationFact) -> str:
    said = f" ({revocation.words!r})" if revocation.words else ""
    return (
        f"customer revoked consent by {revocation.channel}{said} on {day(revocation.received_at)}"
    )


# Pack files hold text, so channels are read from strings and lists.
_Channels = Annotated[tuple[Annotated[Channel, Strict(False)], ...], Strict(False)]


class NoRevocationParams(Params):
    # Revocations made on these channels count; empty means only the contact's own channel.
    revoked_on: _Channels = ()


def no_revocation(facts: Facts, params: NoRevocationParams, rule: RuleIdentity) -> Reason | None:
    """No revocation on record that still stands for this contact's purpose."""
    channels = params.revoked_on or ((facts.channel,) if facts.channel is not None else ())
    found = standing_revocations(
        facts.revocations, channels, facts.purpose, facts.consents, facts.send_at
    )
    return deny(rule, [describe(r) for r in found])
