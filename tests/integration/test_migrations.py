"""The migrations and the tables the code uses describe the same schema, on both stores."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from consent.store.database import make_engine
from consent.store.migrate import alembic_config, current_revision, head_revision, migrate
from consent.store.schema import metadata
from tests.stores import engine_in_fresh_postgres_schema


def test_migrated_database_matches_the_tables_in_code(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_the_audit_subject_index_leaves_out_the_gates_own_entries(engine: Engine) -> None:
    """compare_metadata does not compare an index's WHERE: this does (migration 0004)."""
    indexes = {index["name"]: index for index in inspect(engine).get_indexes("audit_entries")}
    options = indexes["ix_audit_entries_subject"].get("dialect_options", {})
    where = str(options.get(f"{engine.dialect.name}_where", ""))
    assert "check.decided" in where
    assert "check.outcome" in where


@pytest.fixture(params=["sqlite", "postgres"])
def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    with engine_in_fresh_postgres_schema("downgrades", migrated=False) as engine:
        yield engine


def test_every_migration_downgrades_and_upgrades_again(empty_store: Engine) -> None:
    """An operator rolling a release back runs the downgrades: each must run on both stores."""
    migrate(empty_store)
    with empty_store.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
        assert current_revision(conn) is None
    assert migrate(empty_store) == head_revision()
    test_migrated_database_matches_the_tables_in_code(empty_store)
