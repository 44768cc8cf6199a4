"""Revocations: a customer's STOP reply or do-not-call request, honoured once recorded.

Any reasonable means revokes (47 CFR 64.1200(a)(10)), so every revocation is recorded and
honoured, whatever its words; whether they were one of the rule's standard keywords is
only reported. The law allows ten business days to honour one (64.1200(a)(10), (d)(3));
the gate honours it from the moment it is recorded, and keeps the law's date as
``honour_by`` so that an auditor can see the deadline was met.

The words may name the customer, so the audit entry carries them sealed with the customer's
data key (erasure shreds them there) and the state keeps only the standard keyword.
"""

import base64
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection

from audit.entry import Actor
from audit.log import append
from consent.answers import instant
from consent.contacts import contact_kind_for_channel, normalise
from consent.crypto import KeyRing
from consent.customers import customer_entry, local_date, require_customer
from consent.errors import InvalidContactPointError
from consent.state import CustomerState
from consent.store import customers as rows
from consent.store.revocations import RevocationRow, insert_revocation, revocations_of
from policy.business_days import deadline
from policy.facts import RevocationFact
from policy.kinds.revocations import standard_keyword
from policy.vocabulary import Channel

# 47 CFR 64.1200(a)(10) and (d)(3): "not to exceed ten business days of receipt".
HONOUR_WITHIN_BUSINESS_DAYS = 10


@dataclass(frozen=True, slots=True)
class RevocationRequest:
    channel: Channel
    words: str  # what the customer said or wrote, as received
    received_at: datetime  # not after the time it is recorded
    destination: str | None = None  # the number or address it came from, if known


@dataclass(frozen=True, slots=True)
class Revocation:
    channel: Channel
    words: str
    recognised: bool  # one of the standard keywords of 64.1200(a)(10)
    destination_given: bool
    received_at: datetime
    recorded_at: datetime
    honour_by: date
    audit_entry_id: int

    def document(self) -> dict[str, object]:
        return {
            "channel": str(self.channel),
            "words": self.words,
            "recognised": self.recognised,
            "destination_given": self.destination_given,
            "received_at": instant(self.received_at),
            "recorded_at": instant(self.recorded_at),
            "honour_by": self.honour_by.isoformat(),
            "audit_entry_id": self.audit_entry_id,
        }


def honour_by(state: CustomerState, received_at: datetime) -> date:
    """Ten business days after the day of receipt where the customer is.

    The day of receipt is read on the customer's clock (the earliest, where they may be in
    several zones: ``CustomerState.time_zones``), and business days skip the holidays of
    their jurisdictions: where calendars differ, the earliest deadline holds.
    """
    zones = state.time_zones()
    received_on = min(local_date(received_at, zone) for zone in zones)
    return deadline(received_on, HONOUR_WITHIN_BUSINESS_DAYS, sorted(state.jurisdictions))


def record_revocation(
    conn: Connection,
    keyring: KeyRing,
    external_id: str,
    request: RevocationRequest,
    actor: Actor,
    now: datetime,
) -> Revocation:
    """Store the revocation, audit it and project it onto the state, in one transaction."""
    state = require_customer(conn, external_id, lock=True)
    destination_hash = _destination_hash(keyring, state, request)
    keyword = standard_keyword(request.words)
    due = honour_by(state, request.received_at)
    key = keyring.unwrap(rows.wrapped_key(conn, state.pk) or b"")
    sealed = key.encrypt(request.words.encode(), f"{external_id}/revocation".encode())
    payload = {
        "customer_id": external_id,
        "channel": str(request.channel),
        "keyword": keyword,
        "recognised": keyword is not None,
        "destination_given": request.destination is not None,
        "received_at": instant(request.received_at),
        "honour_by": due.isoformat(),
        "sealed_words": base64.b64encode(sealed).decode(),
    }
    seq = append(conn, customer_entry(external_id, "revocation.recorded", payload, actor, now))
    insert_revocation(
        conn,
        state.pk,
        RevocationRow(
            channel=str(request.channel),
            words=request.words,
            destination_hash=destination_hash,
            received_at=request.received_at,
            honour_by=due,
            recorded_at=now,
            recorded_by=actor.name,
            audit_seq=seq,
        ),
    )
    fact = RevocationFact(
        channel=request.channel,
        words=keyword or "",
        received_at=request.received_at,
        recorded_at=now,
    )
    rows.save_state(conn, state.with_changes(revocations=(*state.revocations, fact)), now)
    return Revocation(
        channel=request.channel,
        words=request.words,
        recognised=keyword is not None,
        destination_given=destination_hash is not None,
        received_at=request.received_at,
        recorded_at=now,
        honour_by=due,
        audit_entry_id=seq,
    )


def revocation_history(conn: Connection, state: CustomerState) -> list[Revocation]:
    """The customer's revocations as recorded, oldest received first."""
    return [
        Revocation(
            channel=Channel(row.channel),
            words=row.words,
            recognised=standard_keyword(row.words) is not None,
            destination_given=row.destination_hash is not None,
            received_at=row.received_at,
            recorded_at=row.recorded_at,
            honour_by=row.honour_by,
            audit_entry_id=row.audit_seq,
        )
        for row in revocations_of(conn, state.pk)
    ]


def _destination_hash(
    keyring: KeyRing, state: CustomerState, request: RevocationRequest
) -> bytes | None:
    """The keyed hash of the destination, which must be one of the customer's own."""
    if request.destination is None:
        return None
    kind = contact_kind_for_channel(request.channel)
    region = next((code[:2] for code in sorted(state.jurisdictions)), None)
    found = keyring.lookup_hash(kind, normalise(kind, request.destination, region))
    if found not in state.contact_hashes.get(kind, frozenset()):
        raise InvalidContactPointError(
            f"the destination is not one of this customer's {kind} contact points"
        )
    return found
