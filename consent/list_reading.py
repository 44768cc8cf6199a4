"""Reading a suppression list's copy: parse a CSV or NDJSON body line by line, normalise
and hash every identifier, and spool the entries for ``consent.suppression`` to load.

A copy of millions of lines never sits in memory: each line becomes a fixed-size record
(kind, lookup hash, listing date) in a spool file, and each line that cannot be read is
noted by number, so that the good ones still load. ``in_hash_order`` gives the spool back
sorted by hash, a chunk at a time, as the store writes it best.
"""

import csv
import heapq
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import IO, Any

import orjson

from consent.contacts import normalise
from consent.crypto import KeyRing
from consent.errors import InvalidContactPointError
from consent.json_keys import repeated_keys
from consent.store.suppression import ListEntry

_NANP_REGIONS = frozenset({"US", "CA"})  # +1: the same ten digits in both
MAX_LINE_BYTES = 4096  # far above any identifier line; a longer one is rejected, not buffered
MAX_REJECTIONS_LISTED = 1000  # the answer lists this many; the count covers them all
# Entries per transaction, written or deleted: each holds SQLite's one writer, and the gate
# waits for it (5,000: a few tenths of a second here, under load).
INSERT_CHUNK = 5_000
_RUN_RECORDS = 200_000  # spool records sorted in memory at a time (7.4 MB of them, ~20 MB
# as Python objects); each sorted run waits in a temporary file for the merge
_KINDS = ("phone", "email")
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


class _BadLine(ValueError):
    """Why one line cannot be read; its message is the rejection's reason."""


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


def in_hash_order(spool: IO[bytes]) -> Iterator[list[ListEntry]]:
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
