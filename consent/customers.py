"""Customer records: upsert by the CRM's id, the profile view, and erasure.

Contact details are sealed with the customer's data key and found by keyed hash; the
audit entry of a change carries them sealed too, so erasure shreds them there as well.
"""

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from audit.entry import Actor, AuditEntry
from audit.log import append
from consent.contacts import normalise, phone_time_zones
from consent.crypto import DataKey, KeyRing
from consent.errors import CustomerErasedError, CustomerNotFoundError
from consent.state import CustomerState, relationship_to_json
from consent.store import customers as rows
from consent.store.revocations import forget_words
from consent.store.schema import consents
from consent.suppression import remember_erased
from policy.facts import ConsentFact, Relationship
from policy.vocabulary import Purpose

CONTACT_KINDS = ("email", "phone", "post", "push")


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    jurisdictions: frozenset[str]
    time_zone: str | None = None
    birth_date: date | None = None
    relationship: Relationship = field(default_factory=Relationship)
    contact_points: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # kind -> values


@dataclass(frozen=True, slots=True)
class UpsertResult:
    created: bool
    audit_entry_id: int


def _aad(external_id: str, what: str) -> bytes:
    """Binds a ciphertext to its customer and field, so it cannot be moved to another."""
    return f"{external_id}/{what}".encode()


def _region(jurisdictions: frozenset[str]) -> str | None:
    """The country a national phone number is read in, when the CRM sends no +prefix."""
    return next((code[:2] for code in sorted(jurisdictions)), None)


def _normalised_points(profile: CustomerProfile) -> list[tuple[str, str]]:
    region = _region(profile.jurisdictions)
    seen: dict[tuple[str, str], None] = {}
    for kind in CONTACT_KINDS:
        for value in profile.contact_points.get(kind, ()):
            seen[(kind, normalise(kind, value, region))] = None
    return list(seen)


def _seal_pii(
    key: DataKey, external_id: str, profile: CustomerProfile, points: list[tuple[str, str]]
) -> bytes:
    document = {
        "birth_date": profile.birth_date.isoformat() if profile.birth_date else None,
        "contact_points": [[kind, value] for kind, value in points],
    }
    return key.encrypt(json.dumps(document).encode(), _aad(external_id, "pii"))


def upsert_customer(
    conn: Connection,
    keyring: KeyRing,
    external_id: str,
    profile: CustomerProfile,
    actor: Actor,
    now: datetime,
) -> UpsertResult:
    points = _normalised_points(profile)  # raises InvalidContactPointError before any write
    current = rows.load_state(conn, external_id, lock=True)
    if current is not None and current.erased:
        raise CustomerErasedError(f"customer {external_id} was erased and cannot be re-created")
    hashed = [(kind, keyring.lookup_hash(kind, value)) for kind, value in points]
    zones = tuple(
        dict.fromkeys(z for kind, v in points if kind == "phone" for z in phone_time_zones(v))
    )
    if current is None:
        key, wrapped = keyring.new_data_key()
        state = CustomerState(pk=0, external_id=external_id, jurisdictions=profile.jurisdictions)
    else:
        wrapped = rows.wrapped_key(conn, current.pk) or b""
        key, state = keyring.unwrap(wrapped), current
    state = state.with_changes(
        jurisdictions=profile.jurisdictions,
        time_zone=profile.time_zone,
        phone_time_zones=zones,
        relationship=profile.relationship,
        contact_hashes={
            kind: frozenset(h for k, h in hashed if k == kind)
            for kind in CONTACT_KINDS
            if any(k == kind for k, _ in hashed)
        },
    )
    # A birth date given, corrected or removed changes the age every consent was given at.
    state = state.with_changes(consents=with_ages(state, profile.birth_date))
    pii = _seal_pii(key, external_id, profile, points)
    if current is None:
        pk = rows.insert_customer(conn, state, wrapped, pii, now)
        if pk is None:  # created meanwhile by another caller: now a row to lock and replace
            return upsert_customer(conn, keyring, external_id, profile, actor, now)
        state = state.with_changes(pk=pk)
    else:
        rows.save_state(conn, state, now, pii=pii)
    sealed = [
        (kind, lookup, key.encrypt(value.encode(), _aad(external_id, kind)))
        for (kind, value), (_, lookup) in zip(points, hashed, strict=True)
    ]
    rows.replace_contact_points(conn, state.pk, sealed, now)
    payload = {
        "customer_id": external_id,
        "created": current is None,
        "jurisdictions": sorted(profile.jurisdictions),
        "time_zone": profile.time_zone,
        "relationship": relationship_to_json(profile.relationship),
        "contact_points": {kind: sum(1 for k, _ in points if k == kind) for kind in CONTACT_KINDS},
        "sealed_pii": base64.b64encode(pii).decode(),
    }
    seq = append(conn, customer_entry(external_id, "customer.upserted", payload, actor, now))
    return UpsertResult(created=current is None, audit_entry_id=seq)


def age_on(birth_date: date, at: datetime, zones: tuple[str, ...]) -> int:
    """Whole years at ``at`` by the calendar where the customer is; where they may be in
    several zones (``CustomerState.time_zones``), the youngest reading (an age rule then
    fails closed). UTC if none is given."""
    return min(_whole_years(birth_date, local_date(at, zone)) for zone in zones or ("UTC",))


def local_date(at: datetime, zone: str) -> date:
    """The calendar day of ``at`` in ``zone``; at the very ends of the calendar (year 1,
    year 9999), where the shift would leave it, the UTC day: no real record lies there."""
    try:
        return at.astimezone(ZoneInfo(zone)).date()
    except OverflowError:
        return at.astimezone(UTC).date()


def _whole_years(born: date, on: date) -> int:
    # Born on 29 February: a year older on 1 March in common years.
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def with_ages(state: CustomerState, birth_date: date | None) -> dict[Purpose, ConsentFact]:
    """The state's consents with ``age_at_capture`` recomputed from ``birth_date``."""
    zones = state.time_zones()
    return {
        purpose: replace(
            fact,
            age_at_capture=age_on(birth_date, fact.captured_at, zones) if birth_date else None,
        )
        for purpose, fact in state.consents.items()
    }


def birth_date_of(conn: Connection, keyring: KeyRing, state: CustomerState) -> date | None:
    """The customer's birth date, unsealed from their PII."""
    found = _unsealed_pii(conn, keyring, state)["birth_date"]
    return date.fromisoformat(found) if found else None


def _unsealed_pii(conn: Connection, keyring: KeyRing, state: CustomerState) -> dict[str, Any]:
    wrapped, sealed = rows.sealed_record(conn, state.pk)
    pii: dict[str, Any] = json.loads(
        keyring.unwrap(wrapped).decrypt(sealed, _aad(state.external_id, "pii"))
    )
    return pii


def customer_entry(
    external_id: str, action: str, payload: dict[str, Any], actor: Actor, now: datetime
) -> AuditEntry:
    return AuditEntry.new(
        at=now,
        actor=actor,
        action=action,
        subject=f"customer:{external_id}",
        payload=payload,
    )


def require_customer(conn: Connection, external_id: str, *, lock: bool) -> CustomerState:
    state = rows.load_state(conn, external_id, lock=lock)
    if state is None:
        raise CustomerNotFoundError(f"no customer {external_id}")
    if state.erased:
        raise CustomerErasedError(f"customer {external_id} was erased")
    return state


@dataclass(frozen=True, slots=True)
class ProfileView:
    state: CustomerState
    birth_date: date | None
    contact_points: Mapping[str, tuple[str, ...]]
    consent_history: tuple[dict[str, Any], ...]


def read_profile(conn: Connection, keyring: KeyRing, external_id: str) -> ProfileView:
    state = require_customer(conn, external_id, lock=False)
    pii = _unsealed_pii(conn, keyring, state)
    points: dict[str, list[str]] = {}
    for kind, value in pii["contact_points"]:
        points.setdefault(kind, []).append(value)
    history = conn.execute(
        select(consents)
        .where(consents.c.customer_pk == state.pk)
        .order_by(consents.c.captured_at, consents.c.pk)
    )
    return ProfileView(
        state=state,
        birth_date=date.fromisoformat(pii["birth_date"]) if pii["birth_date"] else None,
        contact_points={kind: tuple(values) for kind, values in points.items()},
        consent_history=tuple(dict(r._mapping) for r in history),
    )


def erase_customer(conn: Connection, external_id: str, actor: Actor, now: datetime) -> int:
    """GDPR Art 17: destroy the data key; the log keeps the entries, now unreadable. The
    contact points' keyed hashes stay on ``erased_customers``, so that no other record
    of theirs is marketed to without a new consent."""
    state = require_customer(conn, external_id, lock=True)
    kept = remember_erased(conn, state.contact_hashes, actor, now)
    rows.erase(conn, state.pk, now)
    forget_words(conn, state.pk)  # what they said may name them
    rows.save_state(
        conn, CustomerState(pk=state.pk, external_id=external_id, jurisdictions=frozenset()), now
    )
    return append(
        conn,
        customer_entry(
            external_id,
            "customer.erased",
            {"customer_id": external_id, "contact_points_kept_as_hashes": kept},
            actor,
            now,
        ),
    )
