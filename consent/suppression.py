"""Suppression lists: load a copy read by ``consent.list_reading``, replace the list, and
consult it when the gate decides.

A list (the national do-not-call registry, the seller's own do-not-call list, Lista
Robinson, or one of our own) holds phone numbers and emails that must not be contacted.
Each identifier is normalised as a contact point is and stored only as the same keyed hash
(``KeyRing.lookup_hash``), so a destination is matched by equality and no list is ever
stored in clear.

Loading happens in two passes so that a copy of millions of lines never sits in memory and
the store is held only for the insert: ``list_reading.read_entries`` streams the body into
a spool file of fixed-size records (hash, kind, listing date), noting each line it cannot
read by number; ``replace_list`` then writes the spool as a new copy beside the list's
current one, a chunk a transaction, and swaps it in with its audit entry in one short
transaction. A line that cannot be read loses nothing else: the good ones load, and the
answer says which were rejected and why.
"""

import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Connection, Engine

from audit.entry import Actor, AuditEntry
from audit.log import append
from consent import list_reading
from consent.contacts import contact_kind_for_channel
from consent.errors import ListReservedError
from consent.list_reading import ListFormat, ReadEntries
from consent.state import CustomerState
from consent.store import suppression as rows
from consent.store.database import read_transaction, transaction
from consent.store.suppression import ListCopy, ListEntry
from policy.facts import ListFact
from policy.kinds.lists import NotListedParams, stale_from
from policy.periods import Period
from policy.rules import Rule
from policy.vocabulary import Channel

NATIONAL_DNC = "national_dnc"
INTERNAL_DNC = "internal_dnc"
LISTA_ROBINSON = "lista_robinson"
CA_NATIONAL_DNCL = "ca_national_dncl"
UK_TPS = "uk_tps"  # the Telephone Preference Service register (PECR reg 26)
# The contact points of erased customers, as keyed hashes: kept by the gate, never loaded.
ERASED_CUSTOMERS = "erased_customers"
RESERVED_LISTS = frozenset({ERASED_CUSTOMERS})

# Where a number without +country code is read: the registry's own country.
DEFAULT_REGIONS = {
    NATIONAL_DNC: "US",
    LISTA_ROBINSON: "ES",
    CA_NATIONAL_DNCL: "CA",
    UK_TPS: "GB",
}

# Entries deleted a transaction: each holds SQLite's one writer, and the gate waits for it.
DELETE_CHUNK = 5_000
# A copy other than the list's, started this long before a new load, belongs to a load that
# died: a million entries load in under a minute here.
STALE_AFTER = timedelta(hours=6)
_RANDOM_BITS = 16

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class LoadedList:
    copy: ListCopy
    created: bool
    audit_entry_id: int


@dataclass(frozen=True, slots=True)
class ListStatus:
    """A loaded copy and whether the law still lets it be used."""

    copy: ListCopy
    max_age: Period | None  # the strictest of the rules that consult this list
    stale_from: datetime | None

    def stale(self, now: datetime) -> bool:
        return self.stale_from is not None and now >= self.stale_from


# --- loading ------------------------------------------------------------------------------


def latest_source_date(now: datetime) -> date:
    """The latest date a copy can have: today where the day starts first (UTC+14).

    A copy dated later is a typo, and would make a stale copy look fresh.
    """
    return (now + timedelta(hours=14)).date()


def replace_list(
    engine: Engine,
    name: str,
    source_date: date,
    read: ReadEntries,
    actor: Actor,
    now: datetime,
    *,
    list_format: ListFormat,
    region: str | None,
) -> LoadedList:
    """Load the spool as the list's new copy and audit it.

    The copy is written beside the current one, a chunk a transaction; one short
    transaction then makes it the list's, with its audit entry; the copy it replaced is
    deleted after, a chunk a transaction. So readers see the old copy or the new one, never
    a mix, and no transaction holds SQLite's one writer for long: the gate keeps deciding
    (in one transaction, a million numbers held it for twenty seconds, and every check
    failed closed meanwhile). Two loads of one list at once: the later swap wins, and each
    deletes the copy it replaced.
    """
    refuse_reserved(name)
    copy_id = new_copy_id()
    _delete_stale_copies(engine, name, copy_id)
    try:
        for chunk in list_reading.in_hash_order(read.spool):
            with transaction(engine) as conn:
                rows.add_entries(conn, name, copy_id, chunk)
        with read_transaction(engine) as conn:  # every entry read: not under the writer
            count, content_hash = rows.count_and_hash(conn, name, copy_id)
        copy = ListCopy(name, source_date, count, content_hash, now, actor.name)
        payload = {
            "list": name,
            "source_date": source_date.isoformat(),
            "entry_count": count,
            "content_hash": content_hash,
            "format": str(list_format),
            "region": region,
            "rejected_lines": read.rejected,
        }
        with transaction(engine) as conn:
            replaced = rows.swap_in(conn, copy, copy_id)
            seq = append(conn, _list_entry(name, "suppression_list.loaded", payload, actor, now))
    except BaseException:
        _delete_copy(engine, name, copy_id)  # written for nothing: nobody reads it
        raise
    if replaced is not None:
        _delete_copy(engine, name, replaced)
    return LoadedList(copy=copy, created=replaced is None, audit_entry_id=seq)


def drop_list(engine: Engine, name: str, actor: Actor, now: datetime) -> int | None:
    """Remove a list and audit it, then delete its entries; None if there was no such list."""
    refuse_reserved(name)
    with transaction(engine) as conn:
        copy_id = rows.remove(conn, name)
        if copy_id is None:
            return None
        seq = append(
            conn, _list_entry(name, "suppression_list.removed", {"list": name}, actor, now)
        )
    _delete_copy(engine, name, copy_id)
    return seq


def refuse_reserved(name: str) -> None:
    if name in RESERVED_LISTS:
        raise ListReservedError(
            f"the {name} list is kept by the gate itself: it cannot be loaded or removed"
        )


def remember_erased(
    conn: Connection, contact_hashes: Mapping[str, frozenset[bytes]], actor: Actor, now: datetime
) -> int:
    """Keep an erased customer's contact points on ``erased_customers``, as the keyed hashes
    they already had, in the erasure's transaction; the number kept.

    Erasure ends the customer's record, not their wish not to be marketed to: the same
    address re-created under another id, or held by a duplicate record, was contactable
    again. GDPR Art 17(3)(b) and 21(3) let the controller keep what it needs to honour the
    objection, and a keyed hash names no one without the key. A consent given on or after
    the day of the erasure (``consent.decide``) is the person's word again.
    """
    entries = [
        ListEntry(kind, lookup_hash, now.date())
        for kind, hashes in sorted(contact_hashes.items())
        for lookup_hash in sorted(hashes)
    ]
    if entries:
        rows.add_to_kept_list(conn, ERASED_CUSTOMERS, entries, new_copy_id(), now, actor.name)
    return len(entries)


def _delete_copy(engine: Engine, name: str, copy_id: int) -> None:
    """Delete a copy that no reader uses, a chunk a transaction. Best effort: what is left
    is found again as stale by the list's next load."""
    after: bytes | None = None
    try:
        while True:
            with transaction(engine) as conn:
                after = rows.delete_some(conn, name, copy_id, after, DELETE_CHUNK)
            if after is None:
                return
    except Exception as exc:  # the load or removal itself is done; this is housekeeping
        log.warning("suppression.copy_not_deleted", list=name, error=type(exc).__name__)


def new_copy_id() -> int:
    """A load's copy id: the milliseconds since the epoch, then 16 random bits (two loads of
    one list in the same millisecond still differ). Ids sort by when their load started;
    the copies loaded before copy ids existed are 0."""
    return (time.time_ns() // 1_000_000) << _RANDOM_BITS | secrets.randbits(_RANDOM_BITS)


def _started_before(copy_id: int, back: timedelta) -> int:
    """The smallest copy id of a load started ``back`` before ``copy_id``'s."""
    millis = (copy_id >> _RANDOM_BITS) - int(back / timedelta(milliseconds=1))
    return max(millis, 0) << _RANDOM_BITS


def _delete_stale_copies(engine: Engine, name: str, started: int) -> None:
    """The copies of loads that died before they swapped or cleaned up (started earlier
    than this one: a load still running now started later than ``STALE_AFTER`` ago)."""
    before = _started_before(started, STALE_AFTER)
    tried: set[int] = set()
    while True:
        with read_transaction(engine) as conn:
            stale = rows.stale_copy_id(conn, name, before)
        if stale is None or stale in tried:  # gone, or it could not be deleted: next load
            return
        tried.add(stale)
        _delete_copy(engine, name, stale)


def _list_entry(
    name: str, action: str, payload: dict[str, Any], actor: Actor, now: datetime
) -> AuditEntry:
    return AuditEntry.new(
        at=now,
        actor=actor,
        action=action,
        subject=f"suppression_list:{name}",
        payload=payload,
    )


# --- consulting ---------------------------------------------------------------------------


def hashes_to_consult(
    state: CustomerState, channel: Channel | None, destination_hash: bytes | None
) -> tuple[bytes, ...]:
    """What a contact is looked up by: its destination, else every contact point of the
    channel's kind (any of them listed is enough to deny: the gate cannot know which one
    the sender will use)."""
    if destination_hash is not None:
        return (destination_hash,)
    if channel is None:
        return ()
    kind = contact_kind_for_channel(channel)
    return tuple(sorted(state.contact_hashes.get(kind, frozenset())))


def consult(conn: Connection, state: CustomerState, channel: Channel | None) -> dict[str, ListFact]:
    """The lists as the gate would see them for a contact with no destination (read-only)."""
    return rows.memberships(conn, hashes_to_consult(state, channel, None))


# --- what the law says of a copy ----------------------------------------------------------


def loaded_lists(conn: Connection, rules: Iterable[Rule]) -> list[ListStatus]:
    """Every loaded copy, by name, with what the rules say of its age; a list the gate
    keeps itself is counted and hashed as it is read (its additions leave that to here)."""
    copies = [
        rows.kept_content(conn, copy) if copy.name in RESERVED_LISTS else copy
        for copy in rows.read_copies(conn)
    ]
    return statuses(copies, rules)


def statuses(copies: Sequence[ListCopy], rules: Iterable[Rule]) -> list[ListStatus]:
    """Each copy with the strictest age limit that a rule consulting its list sets."""
    ages: dict[str, list[Period]] = {}
    for rule in rules:
        params = rule.params
        if isinstance(params, NotListedParams) and params.max_age is not None:
            ages.setdefault(params.list, []).append(params.max_age)
    found = []
    for copy in copies:
        limits = [(stale_from(copy.source_date, age), age) for age in ages.get(copy.name, [])]
        first = min(limits, key=lambda limit: limit[0], default=None)
        found.append(
            ListStatus(
                copy=copy,
                max_age=first[1] if first else None,
                stale_from=first[0] if first else None,
            )
        )
    return found
