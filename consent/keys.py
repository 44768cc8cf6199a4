"""API keys: shown once when created, stored only as a SHA-256 of their secret.

A key is ``cg_<key id>_<secret>``: the id finds the row, the secret is compared in constant
time. The secret has 256 bits of entropy, so a plain hash (no slow KDF) is enough.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, insert, select

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


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def create_key(
    conn: Connection, name: str, role: Role, now: datetime, customer_id: str | None = None
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
    return f"cg_{key_id}_{secret}"


def authenticate(conn: Connection, presented: str) -> Caller | None:
    """The caller a key belongs to, or None for a malformed, unknown or revoked key."""
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
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
