"""One rule of law as the engine holds it: read from a pack, checked, immutable."""

from dataclasses import dataclass
from datetime import date

from policy.kinds.base import Params
from policy.requirements import RequirementKind
from policy.vocabulary import Channel, LegalException, Purpose


@dataclass(frozen=True, slots=True)
class Rule:
    id: str  # stable, e.g. "eprivacy.art13_1.e_marketing_consent"
    regime: str
    jurisdictions: tuple[str, ...]  # ISO 3166 codes or the groups "EU" / "EEA"
    channels: tuple[Channel, ...]  # empty: every channel, and checks with no channel
    purposes: tuple[Purpose, ...]
    effective_from: date  # first day the rule applies (customer's local date of send_at)
    effective_until: date | None  # first day it no longer applies; None: still in force
    requires: RequirementKind
    params: Params
    citation: str
    message: str
    source: str  # the pack file, so that a person can find the rule
    line: int | None  # line of the rule's [[rules]] header in that file
    # The named exceptions that lift the rule when the caller invokes one (12 CFR 1016.13-15).
    exempt_under: frozenset[LegalException] = frozenset()
    # If any: the rule judges only disclosures made under one of these exceptions.
    only_under: frozenset[LegalException] = frozenset()

    def covers_channel(self, channel: Channel | None) -> bool:
        return not self.channels or channel in self.channels

    def in_force_on(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_until is None or day < self.effective_until
        )

    def judges_under(self, exception: LegalException | None) -> bool:
        """Whether the rule judges a contact made under this exception (None: none invoked)."""
        if exception is None:
            return not self.only_under
        if self.only_under and exception not in self.only_under:
            return False
        return exception not in self.exempt_under
