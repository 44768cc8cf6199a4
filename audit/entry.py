"""An audit entry as written: who did what to whom, when, and its leaf hash."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from uuid_utils import uuid7

from audit.canonical import canonical_bytes
from audit.leaf import leaf_hash
from audit.timestamps import iso_z_micro


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """The hashed part of an entry. The sequence number is its position, not its content."""

    # A UUID, so two identical events still make two distinct leaves. Version 7 (RFC 9562):
    # time-ordered, so the unique index on it grows at its end instead of dirtying a random
    # page per entry (with the gate's check ids, a batch's COMMIT took half as long).
    entry_id: str
    at: datetime
    actor: Actor
    action: str  # e.g. "check.decided", "preference.set"
    subject: str  # e.g. "customer:C-1001"
    payload: dict[str, Any]

    @classmethod
    def new(
        cls, *, at: datetime, actor: Actor, action: str, subject: str, payload: dict[str, Any]
    ) -> Self:
        """A new event, with a fresh UUID for its id."""
        return cls(str(uuid7()), at, actor, action, subject, payload)

    def document(self) -> dict[str, Any]:
        """The JSON document whose canonical bytes are hashed (the leaf's content)."""
        return {
            "id": self.entry_id,
            "at": format_instant(self.at),
            "actor": {"name": self.actor.name, "role": self.actor.role},
            "action": self.action,
            "subject": self.subject,
            "payload": self.payload,
        }

    def encoded(self) -> tuple[bytes, bytes]:
        """(canonical bytes, RFC 9162 leaf hash) of this entry."""
        return encode(self.document())


def encode(document: dict[str, Any]) -> tuple[bytes, bytes]:
    """(canonical bytes, RFC 9162 leaf hash) of an entry's document."""
    data = canonical_bytes(document)
    return data, leaf_hash(data)


def format_instant(at: datetime) -> str:
    """One textual form per instant (UTC, microseconds, 'Z'), so hashes are reproducible."""
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return iso_z_micro(at)
