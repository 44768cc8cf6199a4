"""Where the tests find their stores: a SQLite file, and PostgreSQL on 127.0.0.1:5432.

PostgreSQL is the production store, so in CI (CI=true) its absence fails the run; on a
laptop without it those tests skip and say why. Each test session (each xdist worker) gets a
schema of its own in database ``test``, dropped and migrated afresh.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from consent.store.database import make_engine
from consent.store.migrate import migrate

POSTGRES_SERVER = os.environ.get(
    "CONSENT_TEST_POSTGRES", "postgresql+psycopg://root@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def postgres_available() -> str | None:
    """None if reachable, else why not."""
    try:
        probe = create_engine(POSTGRES_SERVER, connect_args={"connect_timeout": 3})
        with probe.connect() as conn:
            conn.execute(text("SELECT 1"))
        probe.dispose()
    except OperationalError as exc:
        return f"PostgreSQL at {POSTGRES_SERVER} is not reachable: {str(exc).splitlines()[0]}"
    return None


def require_postgres() -> None:
    reason = postgres_available()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true requires PostgreSQL: {reason}")
    pytest.skip(reason)


def postgres_url(schema: str) -> str:
    return f"{POSTGRES_SERVER}?options=-csearch_path%3D{schema}"


def fresh_postgres_schema(worker: str) -> str:
    schema = f"cg_{worker}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return schema


def drop_postgres_schema(schema: str) -> None:
    admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def migrated_engine(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine


@contextmanager
def engine_in_fresh_postgres_schema(name: str, *, migrated: bool = True) -> Iterator[Engine]:
    """An engine on a schema of its own (skipped, or failed in CI, without PostgreSQL),
    dropped afterwards."""
    require_postgres()
    schema = fresh_postgres_schema(name)
    url = postgres_url(schema)
    engine = migrated_engine(url) if migrated else make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_postgres_schema(schema)
