"""Suppression lists: read a CSV or NDJSON copy, hash every identifier, replace the list.

A list (the national do-not-call registry, the seller's own do-not-call list, Lista
Robinson, or one of our own) holds phone numbers and emails that must not be contacted.
Each identifier is normalised as a contact point is and stored only as the same keyed hash
(``KeyRing.lookup_hash``), so a destination is matched by equality and no list is ever
stored in clear.

Loading happens in two passes so that a copy of millions of lines never sits in memory and
the store is held only for the insert: ``read_entries`` streams the body line by line into
a spool file of fixed-size records (hash, kind, listing date), noting each line it cannot
read by number; ``replace_list`` then writes the spool as a new copy beside the list's
current one, a chunk a transaction, and swaps it in with its audit entry in one short
transaction. A line that cannot be read loses nothing else: the good ones load, and the
answer says which were rejected and why.
"""

import csv
import heapq
import secrets
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import IO, Any

import orjson
import structlog
from sqlalchemy import Connection, Engine

from audit.entry import Actor, AuditEntry
from audit.log import append
from consent.contacts import contact_kind_for_channel, normalise
from consent.crypto import KeyRing
from consent.errors import InvalidContactPointError
from consent.json_keys import repeated_keys
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

# Where a number without +country code is read: the registry's own country.
DEFAULT_REGIONS = {NATIONAL_DNC: "US", LISTA_ROBINSON: "ES", CA_NATIONAL_DNCL: "CA"}
_NANP_REGIONS = frozenset({"US", "CA"})  # +1: the same ten digits in both

MAX_LINE_BYTES = 4096  # far above any identifier line; a longer one is rejected, not buffered
MAX_REJECTIONS_LISTED = 1000  # the answer lists this many; the count covers them all
# Entries per transaction, written or deleted: each holds SQLite's one writer, and the gate
# waits for it (5,000: a few tenths of a second here, under load).
INSERT_CHUNK = 5_000
DELETE_CHUNK = 5_000
# A copy other than the list's, started this long before a new load, belongs to a load that
# died: a million entries load in under a minute here.
STALE_AFTER = timedelta(hours=6)
_RANDOM_BITS = 16
_RUN_RECORDS = 200_000  # spool records sorted in memory at a time (7.4 MB of them, ~20 MB
# as Python objects); each sorted run waits in a temporary file for the merge

_KINDS = ("phone", "email")
log = structlog.get_logger(__name__)

_RECORD = 1 + 32 + 4  # kind, lookup hash, listing date as a proleptic ordinal (0: unknown)
_CSV_COLUMNS = frozenset({"phone", "email", "listed_on"})


class ListFormat(StrEnum):
    CSV = "csv"
    NDJSON = "ndjson"


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int  # 1-based, as an editor shows it
    reason: str  # never the line itself: it may be someone's number


@dataclass
class ReadEntries:
    """A body read into a spool of hashed entries; close it when done."""

    spool: IO[bytes]
    entries: int = 0  # entries read (an identifier given twice counts twice)
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)  # the first MAX_ listed

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < MAX_REJECTIONS_LISTED:
            self.rejections.append(Rejection(line, reason))

    @property
    def unreadable(self) -> bool:
        """Lines were sent and none could be read: loading would empty the list by mistake."""
        return self.entries == 0 and self.rejected > 0

    def close(self) -> None:
        self.spool.close()


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


class _BadLine(ValueError):
    """Why one line cannot be read; its message is the rejection's reason."""


# --- reading ------------------------------------------------------------------------------


def read_entries(
    chunks: Iterable[bytes], list_format: ListFormat, keyring: KeyRing, region: str | None
) -> ReadEntries:
    """Parse, normalise and hash every line into a spool; bad lines are noted, not fatal."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - ReadEntries closes it
    read = ReadEntries(spool)
    parse: Callable[[str], _Parsed | None] = (
        _CsvLines() if list_format is ListFormat.CSV else _ndjson_line
    )
    for number, line in _text_lines(chunks):
        if not isinstance(line, _BadLine) and not line.strip():
            continue
        parsed = line if isinstance(line, _BadLine) else parse(line)
        if parsed is None:  # the header
            continue
        if isinstance(parsed, _BadLine):
            read.reject(number, str(parsed))
            continue
        try:
            records = [_record(keyring, kind, value, region, on) for kind, value, on in parsed]
        except _BadLine as bad:
            read.reject(number, str(bad))
            continue
        for record in records:
            spool.write(record)
            read.entries += 1
    spool.seek(0)
    return read


_Parsed = list[tuple[str, str, date | None]] | _BadLine  # (kind, value, listed_on) per entry


def _text_lines(chunks: Iterable[bytes]) -> Iterator[tuple[int, str | _BadLine]]:
    """Numbered lines of UTF-8 text from byte chunks, never holding more than one line."""
    for number, raw in _byte_lines(chunks):
        if raw is None:
            yield number, _BadLine(f"longer than {MAX_LINE_BYTES} bytes")
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, _BadLine("not UTF-8 text")
            continue
        if number == 1:
            text = text.removeprefix("\ufeff")  # a byte order mark some spreadsheets write
        yield number, text.rstrip("\r")


def _byte_lines(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line without its newline); None for a line too long to keep."""
    buffer = bytearray()
    number = 0
    too_long = False
    for chunk in chunks:
        buffer += chunk
        start = 0
        while (end := buffer.find(b"\n", start)) != -1:
            number += 1
            too_long = too_long or end - start > MAX_LINE_BYTES
            yield number, None if too_long else bytes(buffer[start:end])
            too_long = False
            start = end + 1
        del buffer[:start]
        if len(buffer) > MAX_LINE_BYTES:
            too_long = True
            buffer.clear()
    if buffer or too_long:
        too_long = too_long or len(buffer) > MAX_LINE_BYTES
        yield number + 1, None if too_long else bytes(buffer)


class _CsvLines:
    """CSV, one record a line: a header naming ``phone``, ``email``, ``listed_on``, or none.

    Without a header a line is an identifier and optionally its listing date, or the
    registry's own flat file form, area code and number (``201,5550123``).
    """

    def __init__(self) -> None:
        self._columns: list[str] | None = None
        self._first = True

    def __call__(self, line: str) -> _Parsed | None:
        """The line's entries, or None for the header."""
        try:
            cells = [cell.strip() for cell in next(csv.reader([line]))]
        except csv.Error:
            return _BadLine("not a CSV record")
        if self._first:
            self._first = False
            named = [cell.lower() for cell in cells]
            if set(named) <= _CSV_COLUMNS and {"phone", "email"} & set(named):
                self._columns = named
                return None
        return _csv_record(cells, self._columns)


def _csv_record(cells: list[str], columns: list[str] | None) -> _Parsed:
    if columns is None:
        return _headerless(cells)
    if len(cells) != len(columns):
        return _BadLine(f"{len(cells)} field(s), the header names {len(columns)}")
    named = dict(zip(columns, cells, strict=True))
    try:
        listed_on = _listed_on(named.get("listed_on") or None)
    except _BadLine as bad:
        return bad
    found = [(kind, named[kind], listed_on) for kind in _KINDS if named.get(kind)]
    return found or _BadLine("no phone or email on this line")


def _headerless(cells: list[str]) -> _Parsed:
    if len(cells) == 2 and _is_digits(cells[0], 3) and _is_digits(cells[1], 7):
        return [("phone", cells[0] + cells[1], None)]  # the registry's area code, number
    if len(cells) not in (1, 2) or not cells[0]:
        return _BadLine("expected an identifier and optionally its listing date")
    try:
        listed_on = _listed_on(cells[1] if len(cells) == 2 else None)
    except _BadLine as bad:
        return bad
    kind = "email" if "@" in cells[0] else "phone"
    return [(kind, cells[0], listed_on)]


def _ndjson_line(line: str) -> _Parsed:
    """One JSON object a line: ``{"phone": "..."}`` or ``{"email": "..."}``, ``listed_on``."""
    try:
        document = orjson.loads(line)  # json.loads recursed into a deeply nested line: a 500
    except ValueError:  # orjson's JSONDecodeError, its depth limit included
        return _BadLine("not a JSON object")
    if isinstance(document, dict) and (twice := repeated_keys(line, distinct=len(document))):
        return _BadLine(f"field {twice[0][0]!r} given more than once")
    return _ndjson_record(document)


def _ndjson_record(document: Any) -> _Parsed:
    if not isinstance(document, dict):
        return _BadLine("not a JSON object")
    unknown = sorted(set(document) - _CSV_COLUMNS)
    if unknown:
        return _BadLine(f"unknown field {unknown[0]!r} (expected phone, email, listed_on)")
    given = [kind for kind in _KINDS if document.get(kind) is not None]
    if len(given) != 1 or not isinstance(document[given[0]], str):
        return _BadLine("expected exactly one of phone or email, as a string")
    on = document.get("listed_on")
    if on is not None and not isinstance(on, str):
        return _BadLine("listed_on is not a date (YYYY-MM-DD)")
    try:
        listed_on = _listed_on(on)
    except _BadLine as bad:
        return bad
    return [(given[0], document[given[0]], listed_on)]


def _listed_on(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _BadLine("listed_on is not a date (YYYY-MM-DD)") from None


def _nanp_e164(value: str, region: str | None) -> str | None:
    """The registry's own ten-digit lines, in E.164 without the phone-number parser.

    A North American number is +1 and its ten digits, area code and exchange each starting
    2-9; the parser would say the same of every valid one, at ~50 us a line, which for a
    registry copy of millions is minutes. A line that only looks valid (an unassigned area
    code) is then stored rather than rejected; no customer's number can match it, since a
    contact point is only stored once the parser accepts it.
    """
    if region not in _NANP_REGIONS or len(value) != 10 or not (value.isascii() and value.isdigit()):
        return None
    if value[0] in "01" or value[3] in "01":
        return None
    return f"+1{value}"


def _looks_national(value: str) -> bool:
    """Digits enough for a number, and no country code to read it by."""
    return not value.lstrip().startswith("+") and sum(c.isdigit() for c in value) >= 6


def _is_digits(text: str, length: int) -> bool:
    return len(text) == length and text.isascii() and text.isdigit()


def _record(keyring: KeyRing, kind: str, value: str, region: str | None, on: date | None) -> bytes:
    try:
        normalised = _nanp_e164(value, region) or normalise(kind, value, region)
    except InvalidContactPointError as error:
        if kind == "phone" and region is None and _looks_national(value):
            raise _BadLine("a national number needs a region (?region=US) or a + prefix") from None
        raise _BadLine(f"{kind}: {error.detail}") from None
    ordinal = on.toordinal() if on is not None else 0
    return kind[0].encode() + keyring.lookup_hash(kind, normalised) + ordinal.to_bytes(4, "big")


def _in_hash_order(spool: IO[bytes]) -> Iterator[list[ListEntry]]:
    """The spool's entries in lookup-hash order, ``INSERT_CHUNK`` at a time.

    A copy is written a chunk a transaction, and a chunk of random hashes dirtied a page in
    every part of the list's indexes: each commit wrote most of them again. A million
    numbers on SQLite: 22 s in one transaction before, 41 s in chunks in file order, 13 s in
    chunks in hash order, where a chunk fills a few neighbouring pages. Runs of the spool
    are sorted in memory and merged; both steps are stable, so of an identifier given twice
    the first line still wins.
    """
    runs: list[IO[bytes]] = []
    try:
        while block := spool.read(_RECORD * _RUN_RECORDS):
            records: list[bytes] = _split(block)
            records.sort(key=_hash_of)
            run = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
            run.write(b"".join(records))
            run.seek(0)
            runs.append(run)
        chunk: list[ListEntry] = []
        for record in heapq.merge(*(_records(sorted_run) for sorted_run in runs), key=_hash_of):
            chunk.append(_entry(record))
            if len(chunk) >= INSERT_CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
    finally:
        for each in runs:
            each.close()


def _records(run: IO[bytes]) -> Iterator[bytes]:
    while block := run.read(_RECORD * 4096):
        yield from _split(block)


def _split(block: bytes) -> list[bytes]:
    return [block[at : at + _RECORD] for at in range(0, len(block), _RECORD)]


def _hash_of(record: bytes) -> bytes:
    return record[1:33]


def _entry(record: bytes) -> ListEntry:
    ordinal = int.from_bytes(record[33:], "big")
    return ListEntry(
        kind="phone" if record[:1] == b"p" else "email",
        lookup_hash=record[1:33],
        listed_on=date.fromordinal(ordinal) if ordinal else None,
    )


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
    copy_id = new_copy_id()
    _delete_stale_copies(engine, name, copy_id)
    try:
        for chunk in _in_hash_order(read.spool):
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
    with transaction(engine) as conn:
        copy_id = rows.remove(conn, name)
        if copy_id is None:
            return None
        seq = append(
            conn, _list_entry(name, "suppression_list.removed", {"list": name}, actor, now)
        )
    _delete_copy(engine, name, copy_id)
    return seq


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
    """Every loaded copy, by name, with what the rules say of its age."""
    return statuses(rows.read_copies(conn), rules)


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
