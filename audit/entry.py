"""An audit entry as written: who did what to whom, when, and its leaf hash."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self

from audit.canonical import canonical_bytes
from audit.leaf import leaf_hash


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """The hashed part of an entry. The sequence number is its position, not its content."""

    entry_id: str  # a UUID, so two identical events still make two distinct leaves
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
        return cls(str(uuid.uuid4()), at, actor, action, subject, payload)

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
        data = canonical_bytes(self.document())
        return data, leaf_hash(data)


def format_instant(at: datetime) -> str:
    """One textual form per instant (UTC, microseconds, 'Z'), so hashes are reproducible."""
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
