"""The SQLite writer's group commit: one transaction per batch, one savepoint per check."""

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from audit.entry import Actor, AuditEntry
from audit.schema import audit_entries
from consent.errors import StoreUnavailableError
from consent.store.database import transaction
from consent.store.gate_sql import CheckRow, GateTransaction
from consent.store.runners import SqliteWriter

NOW = datetime(2026, 11, 26, 11, tzinfo=UTC)


def _record(tx: GateTransaction, subject: str) -> int:
    entry = AuditEntry(
        str(uuid.uuid4()), NOW, Actor("t", "crm_service"), "check.decided", subject, {}
    )
    row = CheckRow(
        id=str(uuid.uuid4()), caller="t", idempotency_key=uuid.uuid4().hex, request_hash="h",
        customer_external_id="C", customer_pk=None, channel=None, purpose="marketing",
        source="campaign", campaign_id=None, send_at=NOW, decided_at=NOW, decision="deny",
        dry_run=False, reserved=False, counts_toward_limits=False, valid_until=None,
        policy_version="v", response="{}",
    )  # fmt: skip
    return tx.record(entry, row)


def _entries(engine: Engine, subject: str) -> int:
    with transaction(engine) as conn:
        query = select(func.count()).where(audit_entries.c.subject == subject)
        return int(conn.execute(query).scalar_one())


def _fails_after_writing(tx: GateTransaction) -> int:
    _record(tx, "subject:failed")
    raise ValueError("the decision broke after writing")


def test_a_failing_check_rolls_back_alone_and_the_rest_of_the_batch_commits(
    sqlite_engine: Engine,
) -> None:
    writer = SqliteWriter(str(sqlite_engine.url.database))
    try:
        jobs = [writer.submit(lambda tx: _record(tx, "subject:ok")) for _ in range(5)]
        failing = writer.submit(_fails_after_writing)
        jobs += [writer.submit(lambda tx: _record(tx, "subject:ok")) for _ in range(5)]
        sequence_numbers = [job.result(timeout=10) for job in jobs]
        with pytest.raises(ValueError, match="broke"):
            failing.result(timeout=10)
    finally:
        writer.close()
    assert len(set(sequence_numbers)) == 10
    assert _entries(sqlite_engine, "subject:ok") == 10
    assert _entries(sqlite_engine, "subject:failed") == 0


def test_a_store_that_cannot_write_fails_every_waiting_check(tmp_path: Path) -> None:
    writer = SqliteWriter(str(tmp_path / "no-such-dir" / "x.db"))
    try:
        for _ in range(2):  # the writer survives the failure and fails the next one too
            with pytest.raises(StoreUnavailableError):
                writer.submit(lambda tx: _record(tx, "s")).result(timeout=10)
    finally:
        writer.close()


def test_writers_of_two_processes_take_turns_on_one_file(sqlite_engine: Engine) -> None:
    """Each worker process has a writer; two writers on one file must both get through."""
    path = str(sqlite_engine.url.database)
    first, second = SqliteWriter(path), SqliteWriter(path)
    try:
        jobs = [
            writer.submit(lambda tx: _record(tx, "subject:turns"))
            for _ in range(50)
            for writer in (first, second)
        ]
        sequence_numbers = [job.result(timeout=30) for job in jobs]
    finally:
        first.close()
        second.close()
    assert len(set(sequence_numbers)) == 100
    assert _entries(sqlite_engine, "subject:turns") == 100
