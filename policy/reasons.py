"""Why a contact is denied: one ``Reason`` per rule that stands in the way."""

from dataclasses import dataclass
from datetime import datetime

from policy.fast_init import fast_init


@fast_init
@dataclass(frozen=True, slots=True)
class Reason:
    rule: str  # stable rule id, e.g. "eprivacy.art13_1.consent"
    regime: str  # "ePrivacy", "GDPR", "GLBA", "preference", "gate", ...
    citation: str  # where a person can check it, e.g. "Directive 2002/58/EC Art 13(1)"
    message: str  # one sentence a person understands
    # Set only when time alone stands in the way: the first instant this rule would allow.
    earliest_allowed_at: datetime | None = None
