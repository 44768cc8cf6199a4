"""A check's answer as recorded: the same document is returned, stored and replayed."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from audit.timestamps import iso_z
from policy.fast_init import fast_init
from policy.reasons import Reason


def instant(value: datetime | None) -> str | None:
    return iso_z(value) if value is not None else None


def _local(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


@fast_init
@dataclass(frozen=True, slots=True)
class CheckAnswer:
    check_id: str
    customer_id: str
    channel: str | None
    purpose: str
    source: str
    campaign_id: str | None
    send_at: datetime
    decided_at: datetime
    dry_run: bool
    decision: str
    reasons: tuple[Reason, ...]
    policy_version: str
    valid_until: datetime | None
    earliest_allowed_at: datetime | None
    audit_entry_id: int
    # The same instant on the customer's clock (their stored zone, else their phone's), so
    # that a person reading the answer sees "tomorrow 08:00" rather than a UTC time.
    earliest_allowed_at_local: datetime | None = None

    def document(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "customer_id": self.customer_id,
            "channel": self.channel,
            "purpose": self.purpose,
            "source": self.source,
            "campaign_id": self.campaign_id,
            "send_at": instant(self.send_at),
            "decided_at": instant(self.decided_at),
            "dry_run": self.dry_run,
            "decision": self.decision,
            "reasons": [reason_document(r) for r in self.reasons],
            "policy_version": self.policy_version,
            "valid_until": instant(self.valid_until),
            "earliest_allowed_at": instant(self.earliest_allowed_at),
            "earliest_allowed_at_local": _local(self.earliest_allowed_at_local),
            "audit_entry_id": self.audit_entry_id,
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> "CheckAnswer":
        return cls(
            check_id=doc["check_id"],
            customer_id=doc["customer_id"],
            channel=doc["channel"],
            purpose=doc["purpose"],
            source=doc["source"],
            campaign_id=doc["campaign_id"],
            send_at=datetime.fromisoformat(doc["send_at"]),
            decided_at=datetime.fromisoformat(doc["decided_at"]),
            dry_run=doc["dry_run"],
            decision=doc["decision"],
            reasons=tuple(
                Reason(
                    rule=r["rule"],
                    regime=r["regime"],
                    citation=r["citation"],
                    message=r["message"],
                    earliest_allowed_at=_parse(r.get("earliest_allowed_at")),
                )
                for r in doc["reasons"]
            ),
            policy_version=doc["policy_version"],
            valid_until=_parse(doc["valid_until"]),
            earliest_allowed_at=_parse(doc["earliest_allowed_at"]),
            earliest_allowed_at_local=_parse(doc.get("earliest_allowed_at_local")),
            audit_entry_id=doc["audit_entry_id"],
        )


def reason_document(reason: Reason) -> dict[str, Any]:
    return {
        "rule": reason.rule,
        "regime": reason.regime,
        "citation": reason.citation,
        "message": reason.message,
        "earliest_allowed_at": instant(reason.earliest_allowed_at),
    }
