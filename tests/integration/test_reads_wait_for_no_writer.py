"""The read endpoints read a snapshot: a writer in the middle of a write does not hold them
up, and on SQLite they never hold up the gate's writer (``read_transaction``). On SQLite the
other writer holds the store's write lock; on PostgreSQL, the rows' locks."""

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

ANSWERED_WITHIN = 5.0  # seconds; a read behind the writer's lock waited its 30 s busy timeout


@contextmanager
def _sqlite_writer(database: str) -> Iterator[None]:
    blocker = sqlite3.connect(database, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


@contextmanager
def _postgres_writer(engine: Engine, customer_id: str, check_id: str) -> Iterator[None]:
    with engine.connect() as blocker, blocker.begin() as writing:
        customer = "SELECT pk FROM customers WHERE external_id = :id FOR UPDATE"
        blocker.execute(text(customer), {"id": customer_id}).one()
        blocker.execute(text("SELECT id FROM checks WHERE id = :id FOR UPDATE"), {"id": check_id})
        try:
            yield
        finally:
            writing.rollback()


def _read_while_held(
    client: TestClient, crm: dict[str, str], holding: AbstractContextManager[None], paths: list[str]
) -> dict[str, tuple[int, float]]:
    """Each path's status and seconds taken, read while ``holding``; the hold ends before
    waiting long, so that a read still waiting goes on and the test ends cleanly."""
    answers: dict[str, tuple[int, float]] = {}
    with holding:
        started = time.monotonic()

        def read(path: str) -> None:
            status = client.get(path, headers=crm).status_code
            answers[path] = (status, time.monotonic() - started)

        readers = [threading.Thread(target=read, args=(path,)) for path in paths]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(max(0.0, ANSWERED_WITHIN - (time.monotonic() - started)))
    for reader in readers:
        reader.join(60)
    return answers


def test_reads_are_answered_while_another_writer_holds_the_store(
    client: TestClient, crm: dict[str, str], store_url: str, engine: Engine
) -> None:
    customer_id = f"C-read-{uuid.uuid4().hex[:8]}"
    profile = {"jurisdictions": ["ES"], "contact_points": {"email": ["read@example.com"]}}
    assert client.put(f"/v1/customers/{customer_id}", json=profile, headers=crm).status_code == 201
    body = {"customer_id": customer_id, "channel": "email", "purpose": "service",
            "source": "transactional"}  # fmt: skip
    key = {"Idempotency-Key": uuid.uuid4().hex}
    check = client.post("/v1/checks", json=body, headers={**crm, **key})
    assert check.status_code == 200
    check_id = check.json()["check_id"]
    paths = [f"/v1/customers/{customer_id}", f"/v1/checks/{check_id}"]
    holding = (
        _sqlite_writer(store_url.removeprefix("sqlite:///"))
        if store_url.startswith("sqlite")
        else _postgres_writer(engine, customer_id, check_id)
    )

    answers = _read_while_held(client, crm, holding, paths)

    assert {path: status for path, (status, _) in answers.items()} == dict.fromkeys(paths, 200)
    assert all(seconds < ANSWERED_WITHIN for _, seconds in answers.values()), answers
