"""API keys: shown once when created, stored only as a SHA-256 of their secret.

A key is ``cg_<key id>_<secret>``: the id finds the row, the secret is compared in constant
time. The secret has 256 bits of entropy, so a plain hash (no slow KDF) is enough. A key is
never deleted: revoking it stamps ``revoked_at``, so that the audit log's actors keep a row
to point at. Creating and revoking a key are audited when an actor is named (the CLI does).
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert, select, update

from audit import log as audit_log
from audit.entry import Actor, AuditEntry
from consent.errors import NotFoundError
from consent.store.schema import api_keys


class Role(StrEnum):
    CRM_SERVICE = "crm_service"
    CUSTOMER = "customer"
    COMPLIANCE_OFFICER = "compliance_officer"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Caller:
    key_id: str
    name: str
    role: Role
    customer_id: str | None = None  # a customer key may act on this record only


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """What may be shown of a key: never its secret, nor the secret's hash."""

    key_id: str
    name: str
    role: Role
    customer_id: str | None
    created_at: datetime
    revoked_at: datetime | None


class KeyNotFoundError(NotFoundError):
    code = "key-not-found"


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def create_key(
    conn: Connection,
    name: str,
    role: Role,
    now: datetime,
    customer_id: str | None = None,
    actor: Actor | None = None,
) -> str:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    conn.execute(
        insert(api_keys).values(
            key_id=key_id,
            name=name,
            role=str(role),
            secret_hash=_digest(secret),
            customer_external_id=customer_id,
            created_at=now,
        )
    )
    if actor is not None:
        _audit(
            conn, "api_key.created", KeyRecord(key_id, name, role, customer_id, now, None), actor
        )
    return f"cg_{key_id}_{secret}"


def _parts(presented: str) -> tuple[str, str, str]:
    """(prefix, key id, secret) of ``cg_<key id>_<secret>``; parts missing are empty."""
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
    return prefix, key_id, secret


def key_id_of(text: str) -> str:
    """The key id, given the id itself or a whole key (``cg_<id>_<secret>``)."""
    prefix, key_id, _ = _parts(text)
    return key_id if prefix == "cg" and key_id else text


def list_keys(conn: Connection) -> list[KeyRecord]:
    """Every key, revoked ones included, oldest first."""
    rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at, api_keys.c.key_id))
    return [_record(row) for row in rows]


def revoke_key(
    conn: Connection, key_id: str, now: datetime, actor: Actor
) -> tuple[KeyRecord, bool]:
    """(the key, whether this call revoked it): revoking a revoked key changes nothing."""
    row = conn.execute(
        select(api_keys).where(api_keys.c.key_id == key_id).with_for_update()
    ).one_or_none()
    if row is None:
        raise KeyNotFoundError(f"no API key {key_id}")
    record = _record(row)
    if record.revoked_at is not None:
        return record, False
    conn.execute(update(api_keys).where(api_keys.c.key_id == key_id).values(revoked_at=now))
    revoked = replace(record, revoked_at=now)
    _audit(conn, "api_key.revoked", revoked, actor)
    return revoked, True


def _record(row: Any) -> KeyRecord:
    return KeyRecord(
        key_id=row.key_id,
        name=row.name,
        role=Role(row.role),
        customer_id=row.customer_external_id,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def _audit(conn: Connection, action: str, key: KeyRecord, actor: Actor) -> None:
    at = key.revoked_at or key.created_at
    payload = {"key_id": key.key_id, "name": key.name, "role": str(key.role)}
    if key.customer_id is not None:
        payload["customer_id"] = key.customer_id
    entry = AuditEntry.new(
        at=at, actor=actor, action=action, subject=f"api_key:{key.key_id}", payload=payload
    )
    audit_log.append(conn, entry)


def authenticate(conn: Connection, presented: str) -> Caller | None:
    """The caller a key belongs to, or None for a malformed, unknown or revoked key."""
    prefix, key_id, secret = _parts(presented)
    if prefix != "cg" or not key_id or not secret:
        return None
    row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(bytes(row.secret_hash), _digest(secret)):
        return None
    return Caller(
        key_id=key_id, name=row.name, role=Role(row.role), customer_id=row.customer_external_id
    )
