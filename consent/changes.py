"""Changes to what a customer chose or was told: preferences, consents, notices.

Each change is written, projected onto the customer's state and audited in the caller's
transaction. Consents are never updated in place: every change is a new record (a consent
receipt), and the current one per purpose is the latest captured.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, insert

from audit.entry import Actor
from audit.log import append
from consent.answers import instant
from consent.crypto import KeyRing
from consent.customers import age_on, birth_date_of, customer_entry, require_customer
from consent.preferences import ChannelPreference, preference_to_json
from consent.store import customers as rows
from consent.store.schema import consents, notices, preferences
from policy.facts import ConsentFact, names_consent
from policy.vocabulary import ConsentStatus, Purpose


def set_preference(
    conn: Connection, external_id: str, pref: ChannelPreference, actor: Actor, now: datetime
) -> int:
    state = require_customer(conn, external_id, lock=True)
    values = preference_to_json(pref)
    conn.execute(
        preferences.delete().where(
            preferences.c.customer_pk == state.pk, preferences.c.channel == str(pref.channel)
        )
    )
    conn.execute(
        insert(preferences).values(
            customer_pk=state.pk,
            channel=str(pref.channel),
            status=values["status"],
            direction=values["direction"],
            limits=_json(values["limits"]),
            quiet_hours=_json(values["quiet_hours"]),
            source=pref.source,
            updated_at=now,
        )
    )
    rows.save_state(
        conn, state.with_changes(preferences={**state.preferences, pref.channel: pref}), now
    )
    payload = {"customer_id": external_id, "channel": str(pref.channel), **values}
    return append(conn, customer_entry(external_id, "preference.set", payload, actor, now))


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


class ConsentForm(StrEnum):
    """How a consent was given, as the receipt says (GDPR Art 7(1): it must be provable)."""

    # A signed written agreement, on paper or signed electronically under the E-SIGN Act
    # (15 USC 7001): the TCPA's prior express written consent, 47 CFR 64.1200(f)(9).
    WRITTEN = "written"
    WEB_FORM = "web_form"  # a box ticked or a button pressed, with no signature
    VERBAL = "verbal"  # said on a call or in person
    SMS_KEYWORD = "sms_keyword"  # a keyword texted in reply ("JOIN")
    EMAIL = "email"  # a reply or a confirmed link in an email


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    purpose: Purpose
    status: ConsentStatus
    captured_at: datetime
    legal_basis: str | None = None
    notice_version: str | None = None
    source: str | None = None
    expires_at: datetime | None = None
    form: ConsentForm | None = None  # None: not said, so not written


def record_consent(
    conn: Connection,
    keyring: KeyRing,
    external_id: str,
    record: ConsentRecord,
    actor: Actor,
    now: datetime,
) -> int:
    state = require_customer(conn, external_id, lock=True)
    conn.execute(
        insert(consents).values(
            customer_pk=state.pk,
            purpose=str(record.purpose),
            status=str(record.status),
            legal_basis=record.legal_basis,
            notice_version=record.notice_version,
            source=record.source,
            captured_at=record.captured_at,
            expires_at=record.expires_at,
            recorded_at=now,
            recorded_by=actor.name,
            form=str(record.form) if record.form is not None else None,
        )
    )
    current = state.consents.get(record.purpose)
    # A receipt captured earlier than the current one (a late back-fill) joins the history
    # but does not override what the customer said since; nor does a grant on another basis
    # than consent override their refusal (_stands).
    if current is None or (record.captured_at >= current.captured_at and _stands(record, current)):
        born = birth_date_of(conn, keyring, state)
        fact = ConsentFact(
            status=record.status,
            captured_at=record.captured_at,
            expires_at=record.expires_at,
            written=record.form is ConsentForm.WRITTEN,
            age_at_capture=(age_on(born, record.captured_at, state.time_zones()) if born else None),
            legal_basis=record.legal_basis,
        )
        rows.save_state(
            conn, state.with_changes(consents={**state.consents, record.purpose: fact}), now
        )
    payload = {
        "customer_id": external_id,
        "purpose": str(record.purpose),
        "status": str(record.status),
        "legal_basis": record.legal_basis,
        "notice_version": record.notice_version,
        "source": record.source,
        "captured_at": instant(record.captured_at),
        "expires_at": instant(record.expires_at),
        "form": str(record.form) if record.form is not None else None,
    }
    return append(conn, customer_entry(external_id, "consent.recorded", payload, actor, now))


def _stands(record: ConsentRecord, current: ConsentFact) -> bool:
    """Whether a newer record becomes the purpose's current one. Only the customer lifts
    their own withdrawal or objection: a grant the controller records on another basis
    (legitimate interests, a contract) documents that basis, and kept as current it would
    hide the refusal from every rule (an opt-out, a STOP). It joins the history."""
    refused = current.status is not ConsentStatus.GRANTED
    granted_otherwise = record.status is ConsentStatus.GRANTED and not names_consent(
        record.legal_basis
    )
    return not (refused and granted_otherwise)


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    kind: str
    delivered_at: datetime
    method: str


def record_notice(
    conn: Connection, external_id: str, record: NoticeRecord, actor: Actor, now: datetime
) -> int:
    state = require_customer(conn, external_id, lock=True)
    conn.execute(
        insert(notices).values(
            customer_pk=state.pk,
            kind=record.kind,
            delivered_at=record.delivered_at,
            method=record.method,
            recorded_at=now,
            recorded_by=actor.name,
        )
    )
    delivered = tuple(sorted({*state.notices.get(record.kind, ()), record.delivered_at}))
    rows.save_state(
        conn, state.with_changes(notices={**state.notices, record.kind: delivered}), now
    )
    payload = {
        "customer_id": external_id,
        "kind": record.kind,
        "delivered_at": instant(record.delivered_at),
        "method": record.method,
    }
    return append(conn, customer_entry(external_id, "notice.recorded", payload, actor, now))
