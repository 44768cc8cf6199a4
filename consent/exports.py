"""A customer's own data, as one export (GDPR Art 15 access, Art 20 portability).

What they told us (profile, contact points, preferences, consents and their history,
notices, revocations) and what was decided about contacting them (every check, with its
outcome). The export itself is audited: who took the customer's data, and when.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from audit.entry import Actor
from audit.log import append
from consent.crypto import KeyRing
from consent.customers import ProfileView, customer_entry, read_profile
from consent.outcomes import check_document
from consent.revocations import Revocation, revocation_history
from consent.store import checks as check_rows


@dataclass(frozen=True, slots=True)
class CustomerExport:
    profile: ProfileView
    revocations: list[Revocation]
    checks: list[dict[str, Any]]  # each as GET /v1/checks/{id} shows it
    audit_entry_id: int  # the export's own entry


def export_customer(
    conn: Connection, keyring: KeyRing, external_id: str, actor: Actor, now: datetime
) -> CustomerExport:
    profile = read_profile(conn, keyring, external_id)
    state = profile.state
    checks = [check_document(stored) for stored in check_rows.of_customer(conn, state.pk)]
    payload = {"customer_id": external_id, "checks": len(checks)}
    seq = append(conn, customer_entry(external_id, "customer.exported", payload, actor, now))
    return CustomerExport(profile, revocation_history(conn, state), checks, seq)
