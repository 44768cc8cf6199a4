"""The gate's check as store requests, so one decision procedure serves every store.

The gate writes the check as a generator that yields what it needs from the store (lock
and look up, load the reservations and consult the suppression lists, record) and
receives the answers; it does no I/O itself.
``drive`` performs the requests on a blocking transaction (SQLite, in the event loop or
the writer thread; PostgreSQL in a thread); ``drive_async`` on an asyncio one (PostgreSQL
in the event loop). ``prepare`` and ``complete`` split a check around a lock: decided on
a snapshot first, confirmed and recorded under the lock (SQLite with several workers).
``drive_together`` runs many checks stage by stage, one request a stage for all of them
(PostgreSQL, checks that arrived together).
"""

from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from audit.entry import AuditEntry
from consent.decide import Reservation
from consent.state import CustomerState
from consent.store import suppression
from consent.store.gate_sql import CheckRow, GateTransaction, PriorCheck, begin_answer
from policy.facts import ListFact
from policy.fast_init import fast_init

T = TypeVar("T")


@fast_init
@dataclass(frozen=True, slots=True)
class Begin:
    """Lock the customer and find an earlier answer to this key: (state, prior check)."""

    customer_id: str
    caller: str
    idempotency_key: str


@fast_init
@dataclass(frozen=True, slots=True)
class LoadHistory:
    """The customer's live reservations from ``since`` and those of ``campaign_id`` (for the
    duplicate rule) and, when ``hashes`` are given, every loaded suppression list and
    whether any of them is on it: (reservations, lists or None).

    One step, so that a store can answer both in one round trip.
    """

    customer_pk: int
    since: datetime
    campaign_id: str | None
    hashes: tuple[bytes, ...] | None


History = tuple[list[Reservation], dict[str, ListFact] | None]


@fast_init
@dataclass(frozen=True, slots=True)
class Record:
    """Append the audit entry and insert the check: the entry's sequence number."""

    entry: AuditEntry
    row: CheckRow


Step = Begin | LoadHistory | Record
Steps = Generator[Step, Any, T]


class AsyncGateTransaction(Protocol):
    async def begin(
        self, customer_id: str, caller: str, key: str
    ) -> tuple[CustomerState | None, PriorCheck | None]: ...

    async def history(self, step: "LoadHistory") -> History: ...

    async def record(self, entry: AuditEntry, row: CheckRow) -> int: ...


class BatchGateTransaction(Protocol):
    """The same requests for many checks at once, answered in the order asked."""

    async def begin_many(self, steps: list[Begin]) -> list[Any]: ...

    async def history_many(self, steps: list[LoadHistory]) -> list[Any]: ...

    async def record_many(self, steps: list[Record]) -> list[Any]: ...


def _perform(tx: GateTransaction, step: Step) -> Any:
    if isinstance(step, Begin):
        return tx.begin(step.customer_id, step.caller, step.idempotency_key)
    if isinstance(step, LoadHistory):
        lists = tx.lists(step.hashes) if step.hashes is not None else None
        return tx.reservations(step.customer_pk, step.since, step.campaign_id), lists
    return tx.record(step.entry, step.row)


async def _perform_async(tx: AsyncGateTransaction, step: Step) -> Any:
    if isinstance(step, Begin):
        return await tx.begin(step.customer_id, step.caller, step.idempotency_key)
    if isinstance(step, LoadHistory):
        return await tx.history(step)
    return await tx.record(step.entry, step.row)


def drive(steps: Steps[T], tx: GateTransaction) -> T:
    try:
        step = next(steps)
        while True:
            step = steps.send(_perform(tx, step))
    except StopIteration as done:
        result: T = done.value
        return result


async def drive_async(steps: Steps[T], tx: AsyncGateTransaction, first: Step | None = None) -> T:
    """Perform each step on ``tx``; ``first`` if the steps were already started."""
    try:
        step = next(steps) if first is None else first
        while True:
            step = steps.send(await _perform_async(tx, step))
    except StopIteration as done:
        result: T = done.value
        return result


class RereadTransaction(GateTransaction, Protocol):
    """A transaction whose reads also come as the bare rows they are made of (SQLite)."""

    def begin_rows(self, customer_id: str, caller: str, key: str) -> Any: ...

    def reservation_rows(
        self, customer_pk: int, since: datetime, campaign_id: str | None
    ) -> Any: ...

    def reservations_from(self, rows: Any, since: datetime) -> list[Reservation]: ...

    def list_rows(self, hashes: tuple[bytes, ...]) -> Any: ...


def _rows(tx: RereadTransaction, step: Begin | LoadHistory) -> Any:
    if isinstance(step, Begin):
        return tx.begin_rows(step.customer_id, step.caller, step.idempotency_key)
    lists = tx.list_rows(step.hashes) if step.hashes is not None else None
    return tx.reservation_rows(step.customer_pk, step.since, step.campaign_id), lists


def _answer_from(tx: RereadTransaction, step: Begin | LoadHistory, rows: Any) -> Any:
    if isinstance(step, Begin):
        return begin_answer(step.customer_id, rows)
    booked, on_lists = rows
    lists = suppression.list_facts(on_lists) if on_lists is not None else None
    return tx.reservations_from(booked, step.since), lists


@dataclass(slots=True)
class Prepared:
    """A check decided on a snapshot, without the lock: the rows it read, and what it would
    write.

    Under the lock, ``complete`` reads the same rows again; if they are all the same, the
    decision is the one it would take now, and only its record is left to write. Rows, not
    the objects made of them: comparing them costs no parsing (a customer's reservations
    are most of it).
    """

    steps: Steps[Any]
    reads: list[tuple[Begin | LoadHistory, Any]]
    record: Record

    @property
    def begin(self) -> Begin:
        """The check's first read: its customer and idempotency key."""
        step = self.reads[0][0]
        if not isinstance(step, Begin):
            raise TypeError(f"a check starts with Begin, not {type(step).__name__}")
        return step


def prepare(steps: Steps[T], tx: RereadTransaction) -> Prepared | None:
    """Run the check's reads and decision on ``tx``; None if it needs no record (a replay)."""
    reads: list[tuple[Begin | LoadHistory, Any]] = []
    try:
        step = next(steps)
        while not isinstance(step, Record):
            rows = _rows(tx, step)
            reads.append((step, rows))
            step = steps.send(_answer_from(tx, step, rows))
    except StopIteration:
        return None
    return Prepared(steps, reads, step)


def complete(
    prepared: Prepared,
    tx: RereadTransaction,
    again: Callable[[], Steps[T]],
    *,
    unchanged: bool = False,
) -> T:
    """Write a prepared check if what it read still holds under the lock, else run it again.

    ``unchanged``: the batch already knows that nobody wrote what this check read since the
    snapshot (``snapshot_changes.py``), so its rows are not read again.
    """
    if not unchanged and any(_rows(tx, step) != rows for step, rows in prepared.reads):
        prepared.steps.close()  # something changed since the snapshot: decide afresh
        return drive(again(), tx)
    try:
        prepared.steps.send(_perform(tx, prepared.record))
    except StopIteration as done:
        result: T = done.value
        return result
    raise RuntimeError("a check's steps went on after its record")


Outcome = tuple[Any, BaseException | None]


class WroteThenFailedError(Exception):
    """A check failed after its record was written: the batch must not commit."""


async def drive_together(
    started: list[tuple[Steps[Any], Step]], tx: BatchGateTransaction
) -> list[Outcome]:
    """Run each check from its first step, every Begin at once, then every LoadHistory, then
    every Record: three requests to the store for the lot, whatever their number.

    The checks must be of distinct customers and keys: none may see another's record. One
    that raises before writing fails alone; one that raises after its record was written
    fails the batch (``WroteThenFailedError``), which is then rolled back.
    """
    outcomes: list[Outcome] = [(None, None)] * len(started)
    current: dict[int, Step] = {i: step for i, (_, step) in enumerate(started)}
    while current:
        stage = _next_stage(current.values())
        asked = [i for i, step in current.items() if isinstance(step, stage)]
        answers = await _perform_many(tx, stage, [current[i] for i in asked])
        for i, answer in zip(asked, answers, strict=True):
            steps = started[i][0]
            try:
                current[i] = steps.send(answer)
            except StopIteration as done:
                outcomes[i] = (done.value, None)
                del current[i]
            except Exception as exc:
                if stage is Record:
                    raise WroteThenFailedError from exc
                outcomes[i] = (None, exc)
                del current[i]
    return outcomes


def _next_stage(steps: Iterable[Step]) -> type[Step]:
    """The earliest stage any check is at, so that later ones wait and join their stage."""
    kinds = {type(step) for step in steps}
    return next(kind for kind in (Begin, LoadHistory, Record) if kind in kinds)


async def _perform_many(tx: BatchGateTransaction, stage: type[Step], steps: list[Any]) -> list[Any]:
    if stage is Begin:
        return await tx.begin_many(steps)
    if stage is LoadHistory:
        return await tx.history_many(steps)
    return await tx.record_many(steps)
