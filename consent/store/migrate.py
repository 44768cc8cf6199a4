"""Bring a database to the schema this release knows, or refuse to touch it.

An empty database is migrated to head. A database at a revision this release does not know
was migrated by a newer release: running against it could corrupt data, so we stop.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from consent.errors import SchemaAheadError
from consent.store.database import is_sqlite

_MIGRATIONS = Path(__file__).parent / "migrations"
_PG_MIGRATION_LOCK = 0x436F6E73  # advisory lock id: workers starting together migrate once


def alembic_config(conn: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    if conn is not None:
        config.attributes["connection"] = conn
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _refuse_if_ahead(conn: Connection) -> None:
    current = current_revision(conn)
    if current is None:
        return
    scripts = ScriptDirectory.from_config(alembic_config())
    known = {script.revision for script in scripts.walk_revisions()}
    if current not in known:
        raise SchemaAheadError(
            f"the database is at schema revision {current}, which this release does not know "
            f"(its newest is {head_revision()}); upgrade Consent Gate before starting it"
        )


def migrate(engine: Engine) -> str:
    """Upgrade to head (idempotent) and return the revision the database is at."""
    with engine.begin() as conn:
        if not is_sqlite(engine):
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_MIGRATION_LOCK})
        _refuse_if_ahead(conn)
        if current_revision(conn) != head_revision():
            command.upgrade(alembic_config(conn), "head")
    return head_revision()
