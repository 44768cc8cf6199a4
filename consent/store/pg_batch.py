"""Checks that wait together on PostgreSQL, run together: one transaction, a few statements.

A check alone takes four round trips (lock and idempotency look-up, history, record,
COMMIT) and PostgreSQL pays each statement's overhead and each commit's WAL flush.
Checks that arrive while all of a worker's gate transactions are busy instead run stage
by stage (``steps.drive_together``): their customers locked in one statement, in the
order of their sorted ids so that two batches never deadlock; their earlier answers, their
histories and their records each read or written in one statement over arrays; one
COMMIT. The decisions are the ones each check would take alone: a batch holds each
customer and each idempotency key at most once (``AsyncPostgresRunner`` keeps the others
for the next), so no check in it can see, or miss, another's record.
"""

from collections.abc import Sequence
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from audit import log as audit_log
from consent.store import suppression
from consent.store.gate_sql import (
    PRIOR_COLUMNS,
    RESERVATION_COLUMNS,
    begin_answer,
    check_values,
    pg_reservations,
    pg_stamp,
)
from consent.store.steps import Begin, History, LoadHistory, Record

# Statements are assembled from constant column lists, never from input.
#
# Every read of a growing table is a LATERAL subquery with a LIMIT or OFFSET, which
# PostgreSQL plans on its own, once per key, as an index look-up. asyncpg prepares each
# statement, and after five runs PostgreSQL may keep a generic plan, made with the table
# sizes of that moment and made again only after an ANALYZE. As plain joins (or
# ``= ANY``), planned while the tables were small, they scanned them whole: every batch
# read every check ever recorded (seen: 5.4 M rows read in 10 s at 450 checks/s, and
# PostgreSQL's CPU doubling within a minute). ``test_pg_plans.py`` plans each one on
# empty tables.
#
# The customers are locked one by one in the order of the ids given, which the caller
# sorts: every batch locks in the same order, so two batches never deadlock.
_LOCK = (
    "SELECT c.external_id, c.pk, c.state, c.erased_at FROM unnest($1::text[]) AS k (id) "
    "CROSS JOIN LATERAL (SELECT external_id, pk, state, erased_at FROM customers "
    "WHERE external_id = k.id LIMIT 1 FOR UPDATE) AS c"
)
# After the locks, so under READ COMMITTED it sees what a racing twin committed meanwhile.
_PRIORS = (
    "SELECT k.i, p.* "  # noqa: S608 - constants only
    "FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k (caller, key, i) "
    f"CROSS JOIN LATERAL (SELECT {PRIOR_COLUMNS} FROM checks "
    "WHERE caller = k.caller AND idempotency_key = k.key LIMIT 1) AS p"  # the key is unique
)
# Each check's live reservations (the two index ranges of RESERVATIONS_SQL), and for each
# check that consults the suppression lists, every list and how many of its hashes are on it.
_RESERVED = (
    "SELECT true, h.i, r.send_at, r.channel, r.campaign_id, r.counts_toward_limits, r.purpose, "  # noqa: S608 - constants only
    "r.reserved, NULL::text, NULL::date, NULL::bigint, NULL::date FROM h CROSS JOIN LATERAL "
    f"(SELECT {RESERVATION_COLUMNS} FROM checks WHERE customer_pk = h.pk AND "
)
_HISTORY = (
    "WITH h AS (SELECT * FROM unnest($1::integer[], $2::timestamp[], $6::text[]) "  # noqa: S608 - constants only
    "WITH ORDINALITY AS h (pk, since, campaign, i)) "
    f"{_RESERVED}attempted AND send_at > h.since AND counts_toward_limits OFFSET 0) AS r "
    f"UNION ALL {_RESERVED}reserved AND campaign_id = h.campaign "
    "AND (send_at <= h.since OR NOT counts_toward_limits) OFFSET 0) AS r "
    "UNION ALL "
    "SELECT false, c.i, NULL, NULL, NULL, NULL, NULL, NULL, l.name, l.source_date, m.hits, "
    "m.first_on "
    "FROM unnest($3::bigint[]) AS c (i) CROSS JOIN suppression_lists AS l "
    f"CROSS JOIN LATERAL (SELECT {suppression.IN_THE_CURRENT_COPY} "
    "FROM suppression_entries AS e WHERE e.list_name = l.name AND e.lookup_hash IN "
    "(SELECT q.h FROM unnest($4::bigint[], $5::bytea[]) AS q (i, h) WHERE q.i = c.i)) AS m"
)
_AUDIT_TYPES = ("text", "text", "text", "text", "text", "text", "text", "bytea")
_CHECK_COLUMNS = (
    ("id", "text"), ("caller", "text"), ("idempotency_key", "text"), ("request_hash", "text"),
    ("customer_external_id", "text"), ("customer_pk", "integer"), ("channel", "text"),
    ("purpose", "text"), ("source", "text"), ("campaign_id", "text"), ("send_at", "timestamp"),
    ("decided_at", "timestamp"), ("decision", "text"), ("dry_run", "boolean"),
    ("reserved", "boolean"), ("attempted", "boolean"), ("counts_toward_limits", "boolean"),
    ("valid_until", "timestamp"),
    ("policy_version", "text"), ("response", "text"),
)  # fmt: skip


def _arrays(types: Sequence[str], first: int) -> str:
    return ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(types, first))


_ENTRY_ID_PARAM = len(_AUDIT_TYPES) + len(_CHECK_COLUMNS) + 1
_RECORD = (
    f"WITH entry AS (INSERT INTO audit_entries ({', '.join(audit_log.COLUMNS)}) "  # noqa: S608 - constants only
    f"SELECT * FROM unnest({_arrays(_AUDIT_TYPES, 1)}) RETURNING seq, entry_id) "
    f"INSERT INTO checks ({', '.join(name for name, _ in _CHECK_COLUMNS)}, audit_seq) "
    f"SELECT {', '.join(f'c.{name}' for name, _ in _CHECK_COLUMNS)}, entry.seq "
    f"FROM unnest({_arrays([kind for _, kind in _CHECK_COLUMNS], len(_AUDIT_TYPES) + 1)}, "
    f"${_ENTRY_ID_PARAM}::text[]) "
    f"AS c ({', '.join(name for name, _ in _CHECK_COLUMNS)}, entry_id) "
    "JOIN entry ON entry.entry_id = c.entry_id RETURNING id, audit_seq"
)


class BatchPostgresTransaction:
    """``steps.BatchGateTransaction`` on one asyncpg connection, inside its transaction."""

    def __init__(self, conn: "PoolConnectionProxy[asyncpg.Record]") -> None:
        self._conn = conn

    async def begin_many(self, steps: list[Begin]) -> list[Any]:
        customers = sorted({step.customer_id for step in steps})
        locked = {row[0]: row[1:] for row in await self._conn.fetch(_LOCK, customers)}
        callers = [step.caller for step in steps]
        keys = [step.idempotency_key for step in steps]
        priors = {row[0]: row[1:] for row in await self._conn.fetch(_PRIORS, callers, keys)}
        return [
            begin_answer(step.customer_id, (locked.get(step.customer_id), priors.get(i)))
            for i, step in enumerate(steps, 1)
        ]

    async def history_many(self, steps: list[LoadHistory]) -> list[History]:
        consulting = [i for i, step in enumerate(steps, 1) if step.hashes is not None]
        pairs = [(i, h) for i, step in enumerate(steps, 1) for h in step.hashes or ()]
        rows = await self._conn.fetch(
            _HISTORY,
            [step.customer_pk for step in steps],
            [pg_stamp(step.since) for step in steps],
            consulting,
            [i for i, _ in pairs],
            [h for _, h in pairs],
            [step.campaign_id for step in steps],
        )
        booked: dict[int, list[Any]] = {}
        on_lists: dict[int, list[Any]] = {}
        for row in rows:
            (booked if row[0] else on_lists).setdefault(row[1], []).append(
                row[2:8] if row[0] else row[8:]
            )
        return [
            (pg_reservations(booked.get(i, ()), step.since),
             suppression.list_facts(on_lists.get(i, ())) if step.hashes is not None else None)
            for i, step in enumerate(steps, 1)
        ]  # fmt: skip

    async def record_many(self, steps: list[Record]) -> list[int]:
        entries = [audit_log.row_values(step.entry) for step in steps]
        rows = [check_values(step.row, pg_stamp) for step in steps]
        columns = [list(column) for column in zip(*entries, strict=True)]
        columns += [list(column) for column in zip(*rows, strict=True)]
        columns.append([step.entry.entry_id for step in steps])
        recorded = {row[0]: int(row[1]) for row in await self._conn.fetch(_RECORD, *columns)}
        return [recorded[step.row.id] for step in steps]
