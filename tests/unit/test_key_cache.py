"""The API key cache: valid and refused keys are both remembered for the cache period, and
looked up once however many requests miss together, without waiting for a writer."""

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from api.auth import KeyCache
from consent.keys import Caller, Role, create_key
from consent.store.database import transaction
from tests.stores import migrated_engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = migrated_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def key(engine: Engine) -> str:
    with transaction(engine) as conn:
        return create_key(conn, "crm", Role.CRM_SERVICE, datetime.now(UTC))


def _key_queries(engine: Engine) -> list[str]:
    """The statements that read api_keys from now on, as they are sent."""
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    return sent


def _reads(sent: list[str]) -> int:
    return sum("api_keys" in sql for sql in sent)


def test_valid_and_refused_keys_reach_the_store_once_per_period(engine: Engine, key: str) -> None:
    sent = _key_queries(engine)
    cache = KeyCache(engine, ttl=60)
    for presented in (key, key, "cg_0000_bad", "cg_0000_bad"):
        known, caller = cache.cached(presented)
        if not known:
            caller = cache.caller(presented)
        assert (caller is not None) == (presented == key)
    assert _reads(sent) == 2


def test_requests_that_miss_together_ask_the_store_once(engine: Engine, key: str) -> None:
    """An entry expires for every request in flight at once: one look-up serves them all."""
    sent = _key_queries(engine)
    cache = KeyCache(engine, ttl=60)

    async def together() -> list[Caller | None]:
        return await asyncio.gather(*(cache.look_up(key) for _ in range(20)))

    callers = asyncio.run(together())
    assert all(caller is not None and caller.name == "crm" for caller in callers)
    assert _reads(sent) == 1


def test_a_key_is_verified_while_a_writer_holds_the_sqlite_store(engine: Engine, key: str) -> None:
    """The look-up only reads: it must not queue for the write lock the gate's writers hold
    nearly all the time under load (it did, under BEGIN IMMEDIATE, for seconds)."""
    writer = sqlite3.connect(str(engine.url.database), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        found: list[Caller | None] = []
        looking = threading.Thread(target=lambda: found.append(KeyCache(engine, 60).caller(key)))
        looking.start()
        looking.join(timeout=5)  # the store's busy timeout is 30 s
        assert not looking.is_alive()
        assert found
        assert found[0] is not None
    finally:
        writer.execute("ROLLBACK")
        writer.close()
