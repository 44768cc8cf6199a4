"""The migrations and the tables the code uses describe the same schema, on both stores."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, inspect, text

from consent.state import decode_state
from consent.store.database import make_engine
from consent.store.migrate import alembic_config, current_revision, head_revision, migrate
from consent.store.schema import metadata
from consent.store.suppression import ListEntry, add_entries, membership_sql
from policy.vocabulary import ConsentStatus, Purpose
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


_LIST_BEFORE_0005 = (
    "INSERT INTO suppression_lists (name, source_date, entry_count, content_hash, loaded_at, "
    "loaded_by) VALUES ('national_dnc', '2026-12-01', 2, 'h', '2026-12-01 00:00:00', 'ops')"
)
_ENTRY_BEFORE_0005 = (
    "INSERT INTO suppression_entries (list_name, lookup_hash, kind) "
    "VALUES ('national_dnc', :hash, 'phone')"
)


def _entries(conn: Connection) -> set[tuple[int, bytes]]:
    rows = conn.execute(text("SELECT copy_id, lookup_hash FROM suppression_entries"))
    return {(copy_id, bytes(lookup_hash)) for copy_id, lookup_hash in rows}


def test_a_list_loaded_before_0005_is_the_current_copy_after_it_and_back(
    empty_store: Engine,
) -> None:
    """Migration 0005 keeps the entries of a list loaded before it, as the list's copy 0,
    and the gate's membership statement finds them; its downgrade keeps them too, and drops
    a copy that was not the list's (the old key has no room for two)."""
    hashes = [bytes([n]) * 32 for n in (1, 2)]
    with empty_store.begin() as conn:
        command.upgrade(alembic_config(conn), "0004")
        conn.execute(text(_LIST_BEFORE_0005))
        for lookup_hash in hashes:
            conn.execute(text(_ENTRY_BEFORE_0005), {"hash": lookup_hash})
    migrate(empty_store)
    postgres = empty_store.dialect.name == "postgresql"
    with empty_store.begin() as conn:
        assert _entries(conn) == {(0, lookup_hash) for lookup_hash in hashes}
        found = conn.exec_driver_sql(membership_sql(1, postgres=postgres), (hashes[0],)).all()
        assert [(name, hits) for name, _, hits, _ in found] == [("national_dnc", 1)]
        add_entries(conn, "national_dnc", 1, [ListEntry("phone", hashes[0])])  # being loaded
        command.downgrade(alembic_config(conn), "0004")
        rows = conn.execute(text("SELECT lookup_hash FROM suppression_entries"))
        assert {bytes(row[0]) for row in rows} == set(hashes)


# A customer's state as stored before 0006: a controller's grant on legitimate interests
# had replaced the customer's withdrawal of marketing consent, and no record named a basis.
_STATE_BEFORE_0006 = json.dumps(
    {
        "jurisdictions": ["US-NY"], "time_zone": None, "phone_time_zones": [],
        "relationship": {"customer_since": None, "last_purchase_at": None,
                         "last_inquiry_at": None},
        "preferences": {}, "notices": {}, "contacts": {}, "revocations": [],
        "consents": {
            "marketing": {"status": "granted", "captured_at": "2026-03-01T12:00:00+00:00",
                          "expires_at": None, "written": False, "age_at_capture": 41},
            "profiling": {"status": "granted", "captured_at": "2026-02-01T14:00:00+02:00",
                          "expires_at": None, "written": False, "age_at_capture": 40},
        },
    },
    separators=(",", ":"), sort_keys=True,
)  # fmt: skip
_CUSTOMER_BEFORE_0006 = (
    "INSERT INTO customers (external_id, state, created_at, updated_at) "
    "VALUES ('C-0006', :state, '2026-01-01 00:00:00', '2026-03-01 12:00:00')"
)
_CONSENT_BEFORE_0006 = (
    "INSERT INTO consents (customer_pk, purpose, status, legal_basis, captured_at, recorded_at, "
    "recorded_by) VALUES ((SELECT pk FROM customers WHERE external_id = 'C-0006'), :purpose, "
    ":status, :basis, :at, :at, 'crm')"
)


def test_0006_names_each_current_records_basis_and_restores_a_displaced_refusal(
    empty_store: Engine,
) -> None:
    with empty_store.begin() as conn:
        command.upgrade(alembic_config(conn), "0005")
        conn.execute(text(_CUSTOMER_BEFORE_0006), {"state": _STATE_BEFORE_0006})
        for purpose, status, basis, at in (
            ("marketing", "granted", None, "2026-01-01 09:00:00"),
            ("marketing", "withdrawn", None, "2026-02-01 10:00:00"),
            ("marketing", "granted", "legitimate_interests", "2026-03-01 12:00:00"),
            ("profiling", "granted", "contract", "2026-02-01 12:00:00"),  # 14:00 at +02:00
        ):
            parameters = {"purpose": purpose, "status": status, "basis": basis, "at": at}
            conn.execute(text(_CONSENT_BEFORE_0006), parameters)
    assert migrate(empty_store) == head_revision()
    with empty_store.connect() as conn:
        raw = conn.execute(text("SELECT state FROM customers")).scalar_one()
    consents = json.loads(raw)["consents"]
    assert consents["marketing"] == {
        "status": "withdrawn",
        "captured_at": "2026-02-01T10:00:00+00:00",
        "expires_at": None,
        "written": False,
        "age_at_capture": None,
        "legal_basis": None,
    }
    assert consents["profiling"]["legal_basis"] == "contract"
    assert consents["profiling"]["age_at_capture"] == 40  # the same record: kept as it was
    state = decode_state(1, "C-0006", raw, erased=False)  # as the gate reads it
    assert state.consents[Purpose.MARKETING].status is ConsentStatus.WITHDRAWN
    assert not state.consents[Purpose.PROFILING].is_consent


_CHECK_BEFORE_0008 = (
    "INSERT INTO checks (id, caller, idempotency_key, request_hash, customer_external_id, "
    "channel, purpose, source, send_at, decided_at, decision, dry_run, reserved, "
    "counts_toward_limits, policy_version, response, audit_seq, outcome) VALUES (:id, 'crm', "
    ":id, 'h', 'C-0008', 'phone', 'marketing', 'telemarketing', '2026-12-01 10:00:00', "
    "'2026-12-01 09:00:00', :decision, :dry_run, :reserved, true, 'v', '{}', 1, :outcome)"
)


def test_0008_makes_attempts_of_the_reservations_and_of_nothing_given_back_before(
    empty_store: Engine,
) -> None:
    """A ``failed`` reported before 0008 gave its slot back under the rule then, which asked
    for it only for a call never placed: it stays given back; a live reservation is an
    attempt."""
    rows = {
        "live": ("allow", False, True, None),
        "sent": ("allow", False, True, "sent"),
        "failed": ("allow", False, False, "failed"),
        "cancelled": ("allow", False, False, "cancelled"),
        "dry-run": ("allow", True, False, None),
        "denied": ("deny", False, False, None),
    }
    with empty_store.begin() as conn:
        command.upgrade(alembic_config(conn), "0007")
        for check_id, (decision, dry_run, reserved, outcome) in rows.items():
            values = {"decision": decision, "dry_run": dry_run, "reserved": reserved}
            conn.execute(text(_CHECK_BEFORE_0008), {"id": check_id, **values, "outcome": outcome})
    migrate(empty_store)
    with empty_store.begin() as conn:
        attempts = conn.execute(text("SELECT id FROM checks WHERE attempted")).scalars()
        assert set(attempts) == {"live", "sent"}
        command.downgrade(alembic_config(conn), "0007")
        assert "attempted" not in {c["name"] for c in inspect(conn).get_columns("checks")}
