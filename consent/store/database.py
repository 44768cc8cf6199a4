"""Engines and transactions for both stores.

SQLite: one connection per process, every transaction ``BEGIN IMMEDIATE`` so that writers
are serialised before they read (a gate check must not decide on a state another writer is
changing), WAL with ``synchronous=FULL`` so that a committed decision survives a power cut.
PostgreSQL: READ COMMITTED plus a row lock on the customer (``SELECT ... FOR UPDATE``).
"""

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from consent.errors import StoreUnavailableError

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",  # durable before we answer: the decision must not be lost
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",  # other worker processes hold the write lock briefly
)


_READ_ONLY = "consent_read_only"  # an execution option: the transaction only reads


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A read takes no write lock: in WAL it reads a snapshot while writers go on. Under
        # BEGIN IMMEDIATE the API-key look-ups queued behind the gate's writers, polling.
        read_only = conn.get_execution_options().get(_READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # One connection per process: several SQLite writers with busy_timeout queue far worse
        # than one (see PERFORMANCE.md).
        engine = create_engine(
            url,
            hide_parameters=True,  # errors must not carry contact details into logs
            pool_size=1,
            max_overflow=0,
            pool_timeout=30,
            connect_args={"check_same_thread": False},
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        url,
        hide_parameters=True,  # errors must not carry contact details into logs
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
    )


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def dialect_insert(conn: Connection, table: Table) -> sqlite.Insert | postgresql.Insert:
    """An INSERT into ``table`` that can say ``ON CONFLICT``, which each store spells alike."""
    return sqlite.insert(table) if is_sqlite(conn.engine) else postgresql.insert(table)


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One unit of work: commits if the block returns, rolls back if it raises.

    A store that cannot be reached surfaces as StoreUnavailableError, which the API answers
    with 503: the gate never guesses when it cannot read or record.
    """
    try:
        with engine.begin() as conn:
            yield conn
    except OperationalError as exc:
        raise StoreUnavailableError("the consent store is unavailable") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StoreUnavailableError("the connection to the consent store was lost") from exc
        raise


def store_answers(engine: Engine) -> None:
    """Whether the store answers a query: StoreUnavailableError if it does not."""
    if is_sqlite(engine):
        _sqlite_answers(str(engine.url.database))
        return
    with read_transaction(engine) as conn:
        conn.execute(text("SELECT 1"))


def _sqlite_answers(path: str) -> None:
    """On a connection of its own: the engine's one connection can be busy for seconds with
    a list being loaded while the gate decides on its own, and a probe must not wait."""
    try:
        uri = f"{Path(path).resolve().as_uri()}?mode=ro"  # read only: it never creates a file
        with closing(sqlite3.connect(uri, uri=True, timeout=1)) as conn:
            conn.execute("SELECT 1 FROM alembic_version").fetchone()
    except sqlite3.Error as exc:
        raise StoreUnavailableError("the consent store is unavailable") from exc


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """``transaction`` for a unit of work that only reads: on SQLite a deferred BEGIN, which
    waits for no writer. A write inside it fails rather than taking the lock late."""
    with transaction(engine.execution_options(**{_READ_ONLY: True})) as conn:
        yield conn
