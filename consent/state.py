"""A customer's current state, as the gate sees it, and its JSON form on the customer row.

The state is a projection of the preference, consent, notice and contact-point tables,
rewritten in the same transaction as every change to them. It holds no clear-text PII:
contact points appear only as their keyed hashes.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import orjson

from consent.preferences import (
    ChannelPreference,
    limits_from_json,
    preference_to_json,
    quiet_hours_from_json,
    unset_preference,
)
from policy.facts import ConsentFact, Relationship, RevocationFact
from policy.fast_init import fast_init
from policy.jurisdictions import zones_of
from policy.vocabulary import (
    Channel,
    ConsentStatus,
    Direction,
    PreferenceChannel,
    PreferenceStatus,
    Purpose,
    by_value,
)


@fast_init
@dataclass(frozen=True, slots=True)
class CustomerState:
    pk: int
    external_id: str
    jurisdictions: frozenset[str]
    time_zone: str | None = None  # as stored by the CRM
    phone_time_zones: tuple[str, ...] = ()  # derived from phone numbers when none is stored
    relationship: Relationship = field(default_factory=Relationship)
    preferences: Mapping[PreferenceChannel, ChannelPreference] = field(default_factory=dict)
    consents: Mapping[Purpose, ConsentFact] = field(default_factory=dict)
    notices: Mapping[str, tuple[datetime, ...]] = field(default_factory=dict)
    contact_hashes: Mapping[str, frozenset[bytes]] = field(default_factory=dict)
    # STOP replies and do-not-call requests, oldest first. ``words`` holds only the standard
    # keyword said ("STOP"), or "" for other words: free text stays in its table.
    revocations: tuple[RevocationFact, ...] = ()
    erased: bool = False

    def preference(self, channel: PreferenceChannel) -> ChannelPreference:
        return self.preferences.get(channel) or unset_preference(channel)

    def known_time_zones(self) -> tuple[str, ...]:
        """Where the customer may be: the stored zone, else every zone their phones ring in."""
        return (self.time_zone,) if self.time_zone else self.phone_time_zones

    def time_zones(self) -> tuple[str, ...]:
        """Where the customer's own clock may be (their quiet hours, the day a revocation
        was received): the known zones, else every zone of their countries, else UTC.
        UTC alone let a customer in Berlin be emailed in their quiet hours."""
        return self.known_time_zones() or zones_of(self.jurisdictions) or ("UTC",)

    def with_changes(self, **changes: Any) -> "CustomerState":
        return replace(self, **changes)


def _iso(value: datetime | date | None) -> str | None:
    """ISO 8601, UTC instants with "Z", as the API writes them everywhere."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def relationship_to_json(rel: Relationship) -> dict[str, str | None]:
    """As stored in the state, shown in the profile and written to the audit log."""
    return {
        "customer_since": _iso(rel.customer_since),
        "last_purchase_at": _iso(rel.last_purchase_at),
        "last_inquiry_at": _iso(rel.last_inquiry_at),
    }


def encode_state(state: CustomerState) -> str:
    document = {
        "jurisdictions": sorted(state.jurisdictions),
        "time_zone": state.time_zone,
        "phone_time_zones": list(state.phone_time_zones),
        "relationship": relationship_to_json(state.relationship),
        "preferences": {
            str(channel): preference_to_json(pref) for channel, pref in state.preferences.items()
        },
        "consents": {
            str(purpose): {
                "status": str(fact.status),
                "captured_at": fact.captured_at.isoformat(),
                "expires_at": _iso(fact.expires_at),
                "written": fact.written,
                "age_at_capture": fact.age_at_capture,
                "legal_basis": fact.legal_basis,
            }
            for purpose, fact in state.consents.items()
        },
        "revocations": [
            {
                "channel": str(r.channel),
                "words": r.words,
                "received_at": _iso(r.received_at),
                "recorded_at": _iso(r.recorded_at),
            }
            for r in state.revocations
        ],
        "notices": {kind: [_iso(at) for at in times] for kind, times in state.notices.items()},
        "contacts": {
            kind: sorted(h.hex() for h in hashes) for kind, hashes in state.contact_hashes.items()
        },
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def _loads(raw: str) -> dict[str, Any]:
    """orjson (a third of the stdlib's time), or the stdlib for what only it reads.

    ``encode_state`` escapes a lone surrogate (a caller's ``source`` may hold one), which
    orjson refuses; the stdlib reads it back as it was written.
    """
    try:
        document: dict[str, Any] = orjson.loads(raw)
    except orjson.JSONDecodeError:
        document = json.loads(raw)
    return document


# A handful of stored values a state, each read through a dict rather than an Enum call.
_CHANNELS = by_value(PreferenceChannel)
_PREFERENCE_STATUSES = by_value(PreferenceStatus)
_DIRECTIONS = by_value(Direction)
_PURPOSES = by_value(Purpose)
_CONSENT_STATUSES = by_value(ConsentStatus)


@lru_cache(maxsize=16_384)
def decode_state(pk: int, external_id: str, raw: str, *, erased: bool) -> CustomerState:
    """Memoised on the stored text: a customer's state changes far less often than it is read,
    and the result is immutable, so sharing it is safe."""
    document = _loads(raw)
    relationship = document["relationship"]
    since = relationship["customer_since"]
    return CustomerState(
        pk=pk,
        external_id=external_id,
        jurisdictions=frozenset(document["jurisdictions"]),
        time_zone=document["time_zone"],
        phone_time_zones=tuple(document["phone_time_zones"]),
        relationship=Relationship(
            customer_since=date.fromisoformat(since) if since else None,
            last_purchase_at=_dt(relationship["last_purchase_at"]),
            last_inquiry_at=_dt(relationship["last_inquiry_at"]),
        ),
        preferences={
            _CHANNELS[channel]: ChannelPreference(
                channel=_CHANNELS[channel],
                status=_PREFERENCE_STATUSES[pref["status"]],
                direction=_DIRECTIONS[pref["direction"]],
                limits=limits_from_json(pref["limits"]),
                quiet_hours=quiet_hours_from_json(pref["quiet_hours"]),
                source=pref["source"],
            )
            for channel, pref in document["preferences"].items()
        },
        consents={
            _PURPOSES[purpose]: ConsentFact(
                status=_CONSENT_STATUSES[fact["status"]],
                captured_at=datetime.fromisoformat(fact["captured_at"]),
                expires_at=_dt(fact["expires_at"]),
                # Documents written before these keys existed: not written, age unknown,
                # no basis named (consent).
                written=fact.get("written", False),
                age_at_capture=fact.get("age_at_capture"),
                legal_basis=fact.get("legal_basis"),
            )
            for purpose, fact in document["consents"].items()
        },
        notices={
            kind: tuple(datetime.fromisoformat(at) for at in times)
            for kind, times in document["notices"].items()
        },
        contact_hashes={
            kind: frozenset(bytes.fromhex(h) for h in hashes)
            for kind, hashes in document["contacts"].items()
        },
        revocations=tuple(
            RevocationFact(
                channel=Channel(r["channel"]),
                words=r["words"],
                received_at=datetime.fromisoformat(r["received_at"]),
                recorded_at=datetime.fromisoformat(r["recorded_at"]),
            )
            for r in document.get("revocations", ())  # none before revocations were stored
        ),
        erased=erased,
    )
