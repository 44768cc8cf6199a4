"""What the engine is told about one contact: plain values, gathered by the gate."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple, Protocol

from policy.fast_init import fast_init
from policy.vocabulary import (
    Channel,
    ConsentStatus,
    DataCategory,
    LegalException,
    PreferenceStatus,
    Purpose,
    Source,
)


def names_consent(legal_basis: str | None) -> bool:
    """A consent record's basis is consent when it says so, or names none."""
    return legal_basis is None or legal_basis == "consent"


@fast_init
@dataclass(frozen=True, slots=True)
class ConsentFact:
    """The customer's current consent record for one purpose (the latest captured)."""

    status: ConsentStatus
    captured_at: datetime
    expires_at: datetime | None = None
    # A signed written agreement (E-SIGN signatures count): the TCPA's prior express
    # written consent, 47 CFR 64.1200(f)(9).
    written: bool = False
    # The customer's age in whole years when it was given; None if the birth date is unknown.
    # Age rules (LOPDGDD Art 7: 14 in Spain) judge a consent by it.
    age_at_capture: int | None = None
    # The GDPR Art 6(1) basis the record names (contract, legitimate_interests ...); None
    # when it names none, which is read as consent, the record's own kind.
    legal_basis: str | None = None

    @property
    def is_consent(self) -> bool:
        """A grant on consent: what e-marketing, calling and list rules need. A record of
        another basis (legitimate interests, a contract) documents that basis, nothing more."""
        return names_consent(self.legal_basis)

    def in_force(self, at: datetime) -> bool:
        """A grant counts only until it expires; withdrawals and objections never expire."""
        return self.expires_at is None or at < self.expires_at

    def grants_consent_at(self, at: datetime) -> bool:
        """A grant on consent, given by ``at`` and in force then: the customer's word that
        can supersede an earlier refusal (a STOP, an erasure)."""
        return (
            self.status is ConsentStatus.GRANTED
            and self.is_consent
            and self.captured_at <= at
            and self.in_force(at)
        )


@fast_init
@dataclass(frozen=True, slots=True)
class Relationship:
    customer_since: date | None = None
    last_purchase_at: datetime | None = None
    last_inquiry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ListFact:
    """One loaded suppression list, as it bears on this contact."""

    source_date: date  # the date of the copy loaded (a registry's download date)
    listed: bool  # the contact's identifier (or, with no destination, any of theirs) is on it
    listed_on: date | None = None  # when it was put on the list, where the list says


@fast_init
@dataclass(frozen=True, slots=True)
class RevocationFact:
    """A STOP reply or do-not-call request, honoured from when it was recorded."""

    channel: Channel
    words: str
    received_at: datetime
    recorded_at: datetime


class ContactMade(Protocol):
    """What a rule reads of a contact already allowed and not cancelled. One reported
    ``failed`` (``reserved`` false) was still attempted: the customer's limits gave its slot
    back, the law's caps on calls made still count it. The gate hands its reservations over
    as they are, not copied into a ``PastContact`` each: a customer has dozens, and every
    check reads them."""

    @property
    def channel(self) -> Channel | None: ...

    @property
    def purpose(self) -> Purpose: ...

    @property
    def send_at(self) -> datetime: ...

    @property
    def reserved(self) -> bool: ...


class PastContact(NamedTuple):
    """A ``ContactMade`` of its own, for callers that have no reservation to hand over."""

    channel: Channel | None
    purpose: Purpose
    send_at: datetime
    reserved: bool = True


@fast_init
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
    # Autodialed, prerecorded or artificial voice (TCPA 47 CFR 64.1200(a)(2)); a caller
    # must say a call is manual for it to count as not automated, so the default is True.
    automated: bool = True
    lists: Mapping[str, ListFact] = field(default_factory=dict)  # every loaded list, by name
    revocations: tuple[RevocationFact, ...] = ()
    recent_contacts: tuple[ContactMade, ...] = ()  # the customer's, over the rules' lookback
    # The named exception the caller invokes for this disclosure (12 CFR 1016.13-15), or
    # None; a rule says in its pack which exceptions lift it (exempt_under, only_under).
    exception: LegalException | None = None
    # What the disclosure includes, as the caller says. Empty when unsaid, which reads as
    # nonpublic personal information with none of the categories a rule singles out.
    data_categories: frozenset[DataCategory] = frozenset()
