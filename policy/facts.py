"""What the engine is told about one contact: plain values, gathered by the gate."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from policy.vocabulary import Channel, ConsentStatus, PreferenceStatus, Purpose, Source


@dataclass(frozen=True, slots=True)
class ConsentFact:
    """The customer's current consent record for one purpose (the latest captured)."""

    status: ConsentStatus
    captured_at: datetime
    expires_at: datetime | None = None

    def in_force(self, at: datetime) -> bool:
        """A grant counts only until it expires; withdrawals and objections never expire."""
        return self.expires_at is None or at < self.expires_at


@dataclass(frozen=True, slots=True)
class Relationship:
    customer_since: date | None = None
    last_purchase_at: datetime | None = None
    last_inquiry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything a rule may look at. Times are timezone-aware UTC."""

    jurisdictions: frozenset[str]  # as stored: ISO 3166-1 ("ES") or 3166-2 ("US-FL")
    channel: Channel | None  # None for a pure data-use check (e.g. sharing)
    purpose: Purpose
    source: Source
    send_at: datetime
    consents: Mapping[Purpose, ConsentFact] = field(default_factory=dict)
    channel_status: PreferenceStatus = PreferenceStatus.NOT_ASKED
    notices: Mapping[str, tuple[datetime, ...]] = field(default_factory=dict)  # kind -> deliveries
    relationship: Relationship = field(default_factory=Relationship)
    # IANA zones the customer may be in: the stored one, else those of their phone numbers.
    # Empty when unknown; a rule on local time then fails closed.
    time_zones: tuple[str, ...] = ()
