"""What other writers committed between a batch's snapshot and its lock (SQLite, several workers).

A batch decided on a snapshot while another worker held the writers' lock
(``async_sqlite._prepared``) must confirm each decision once it has the lock. Reading each
check's rows again (``steps.complete``) is three statements a check: 8.8 % of a worker's
samples (py-spy, two workers, 20,000 customers). One statement a batch tells instead which
checks can have read something that changed:

- every check another writer inserted since the snapshot (its rowid is past the snapshot's
  last: the table only grows, one writer at a time), by customer and idempotency key;
- whether anything else was committed. Every other write a check's decision reads (a
  customer, a preference, a consent, a notice, a revocation, an erasure, an outcome, a
  suppression list) appends its audit entry in its own transaction, so an entry other than
  ``check.decided`` since the snapshot's last one means "something else changed".

A check whose customer and key no other writer touched, in a batch where nothing else was
committed, would read exactly the rows it read: it is recorded as decided. Any other is
read again, as before. So are the checks after one that this batch ran in full, whose
writes the sets above do not name.

Two invariants hold this up; a change that breaks either must come back here: no write
that changes what the gate reads goes without its audit entry (a suppression list's new
copy is written, and its old one deleted, unaudited, but the gate reads only the copy the
list's row names, which changes in the audited swap), and no check row is deleted
(checks has no INTEGER PRIMARY KEY, so a deleted last row's rowid would be given again).
"""

from dataclasses import dataclass, field
from typing import Any

from consent.store.steps import Begin

_WATERMARK_SQL = (
    "SELECT coalesce((SELECT max(rowid) FROM checks), 0), "
    "coalesce((SELECT max(seq) FROM audit_entries), 0)"
)
# Under the lock: the checks inserted since, and one row of NULLs if anything else was.
_CHANGES_SQL = (
    "SELECT customer_external_id, caller, idempotency_key FROM checks WHERE rowid > ?1 "
    "UNION ALL SELECT NULL, NULL, NULL WHERE EXISTS (SELECT 1 FROM audit_entries "
    "WHERE seq > ?2 AND action <> 'check.decided')"
)

Watermark = tuple[int, int]  # the snapshot's last check rowid and last audit seq


def watermark(cursor: Any) -> Watermark:
    """Where the snapshot stands; the first read of its transaction, so that it is its own."""
    cursor.execute(_WATERMARK_SQL)
    last_check, last_entry = cursor.fetchone()
    return last_check, last_entry


@dataclass(slots=True)
class SnapshotChanges:
    """Which prepared checks of a batch still hold under the lock, as the batch goes on."""

    customers: set[str] = field(default_factory=set)  # touched since the snapshot
    keys: set[tuple[str, str]] = field(default_factory=set)  # (caller, idempotency key)
    unknown: bool = True  # until read: anything may have changed

    def read(self, cursor: Any, watermark: Watermark) -> None:
        """What was committed since ``watermark``; call inside the locked transaction."""
        cursor.execute(_CHANGES_SQL, watermark)
        self.unknown = False
        for customer, caller, key in cursor.fetchall():
            if customer is None:
                self.unknown = True
            else:
                self.customers.add(customer)
                self.keys.add((caller, key))

    def holds(self, begin: Begin) -> bool:
        """Nothing this check read can have changed since the snapshot."""
        return (
            not self.unknown
            and begin.customer_id not in self.customers
            and (begin.caller, begin.idempotency_key) not in self.keys
        )

    def wrote(self, begin: Begin) -> None:
        """A check of this batch was recorded: later ones of its customer or key read again."""
        self.customers.add(begin.customer_id)
        self.keys.add((begin.caller, begin.idempotency_key))

    def ran_in_full(self) -> None:
        """A job whose writes are not known here ran: every later check reads again."""
        self.unknown = True
