"""A customer's own data, as one export (GDPR Art 15 access, Art 20 portability).

What they told us (profile, contact points, preferences, consents and their history,
notices, revocations) and what was decided about contacting them (every check, with its
outcome). The export itself is audited: who took the customer's data, and when.

The data are read in read-only transactions, and the audit entry is written in one of its
own: the export held the write transaction while it read every check (19 us a check; 95
ms for 5,000 on SQLite), and SQLite has one writer, so the gate waited for it. The checks
are read a page at a time as the answer is sent: built whole, a customer's tens of
thousands of checks (years of one-time codes) were all in the worker's memory at once.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from audit.entry import Actor
from audit.log import append
from consent.crypto import KeyRing
from consent.customers import ProfileView, customer_entry, read_profile, require_customer
from consent.outcomes import check_document
from consent.revocations import Revocation, revocation_history
from consent.store import checks as check_rows
from consent.store.database import read_transaction, transaction

PAGE = 500  # checks a read transaction


@dataclass(frozen=True, slots=True)
class CustomerExport:
    profile: ProfileView
    revocations: list[Revocation]
    check_count: int  # the checks recorded when the export was read
    audit_entry_id: int  # the export's own entry
    checks: Iterator[dict[str, Any]]  # each as GET /v1/checks/{id} shows it, read as iterated


def export_customer(
    engine: Engine, keyring: KeyRing, external_id: str, actor: Actor, now: datetime
) -> CustomerExport:
    """The customer's data as read now; returned only once the export is audited, and not
    if the customer was erased meanwhile (CustomerErasedError). The checks are those
    recorded when it was read (up to the last one's audit entry). The first page is read
    with the profile, so that an export of one page (most customers') is one snapshot and
    a store that fails is a 503 before anything is sent; later pages are read as they are
    sent, and a failure among them can only cut the answer short."""
    with read_transaction(engine) as conn:
        profile = read_profile(conn, keyring, external_id)
        revocations = revocation_history(conn, profile.state)
        count, last = check_rows.recorded_for(conn, profile.state.pk)
        first = _page(conn, profile.state.pk, last, None)
    payload = {"customer_id": external_id, "checks": count}
    with transaction(engine) as conn:
        require_customer(conn, external_id, lock=False)
        seq = append(conn, customer_entry(external_id, "customer.exported", payload, actor, now))
    checks = _checks(engine, profile.state.pk, last, first)
    return CustomerExport(profile, revocations, count, seq, checks)


def _page(
    conn: Connection, customer_pk: int, up_to_seq: int | None, after: tuple[datetime, str] | None
) -> list[check_rows.StoredCheck]:
    if up_to_seq is None:  # no check recorded
        return []
    return check_rows.page_of_customer(conn, customer_pk, up_to_seq, after, PAGE)


def _checks(
    engine: Engine, customer_pk: int, up_to_seq: int | None, page: list[check_rows.StoredCheck]
) -> Iterator[dict[str, Any]]:
    """The customer's checks by send time: the page read already, then a page a read
    transaction."""
    while True:
        yield from (check_document(stored) for stored in page)
        if len(page) < PAGE:
            return
        with read_transaction(engine) as conn:
            page = _page(conn, customer_pk, up_to_seq, (page[-1].send_at, page[-1].id))
