"""When the gate cannot decide, it refuses: never an allow."""

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from api.settings import Settings
from consent.errors import SchemaAheadError
from consent.gate import Gate, GateSettings
from consent.store.database import make_engine, store_answers, transaction
from consent.store.migrate import migrate
from policy.packs import PolicyLoadError
from tests.conftest import POLICIES, bearer
from tests.stores import migrated_engine


def test_store_down_is_a_503_problem(
    app: FastAPI, client: TestClient, api_keys: dict[str, str]
) -> None:
    services = app.state.services
    down = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    quick = GateSettings(store_timeout=timedelta(seconds=0.5))
    broken = Gate(down, services.policy, services.keyring, quick)
    body = {"customer_id": "C-1", "channel": "email", "purpose": "marketing", "source": "campaign"}
    headers = {**bearer(api_keys["crm_service"]), "Idempotency-Key": "down-1"}
    app.state.services = replace(services, gate=broken)
    try:
        response = client.post("/v1/checks", json=body, headers=headers)
    finally:
        app.state.services = services
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:consent-gate:problem:store-unavailable"
    assert response.headers["retry-after"] == "1"


def test_ready_only_while_the_store_answers(app: FastAPI, client: TestClient) -> None:
    """Alive either way (a restart cures no shared outage); ready only with the store."""
    services = app.state.services
    for method in ("GET", "HEAD"):
        assert client.request(method, "/readyz").status_code == 200
        assert client.request(method, "/healthz").status_code == 200
    assert client.get("/readyz").json()["status"] == "ready"
    down = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    app.state.services = replace(services, engine=down)
    try:
        ready, alive = client.get("/readyz"), client.get("/healthz")
    finally:
        app.state.services = services
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready.json()["type"] == "urn:consent-gate:problem:store-unavailable"
    assert alive.status_code == 200


def test_sqlite_answers_while_its_engine_s_one_connection_is_busy(tmp_path: Path) -> None:
    """A list being loaded holds it for seconds while the gate decides on its own; the
    probe waited up to the pool's 30 s for it, and a load balancer drained the instance."""
    engine = migrated_engine(f"sqlite:///{tmp_path / 'busy.db'}")
    try:
        with engine.connect():  # the one connection, taken
            store_answers(engine)  # no StoreUnavailableError, and no wait for the pool
    finally:
        engine.dispose()


def test_a_sqlite_file_that_is_gone_is_not_ready(
    app: FastAPI, client: TestClient, tmp_path: Path
) -> None:
    services = app.state.services
    gone = make_engine(f"sqlite:///{tmp_path / 'gone.db'}")
    app.state.services = replace(services, engine=gone)
    try:
        answer = client.get("/readyz")
    finally:
        app.state.services = services
    assert answer.status_code == 503
    assert answer.json()["type"] == "urn:consent-gate:problem:store-unavailable"
    assert not (tmp_path / "gone.db").exists()  # the probe creates nothing


def test_unreadable_policy_stops_the_start(settings: Settings, tmp_path: Path) -> None:
    for source in POLICIES.iterdir():
        (tmp_path / source.name).write_bytes(source.read_bytes())
    (tmp_path / "gdpr.toml").write_text("[pack\nname = 'broken'\n")
    with pytest.raises(PolicyLoadError, match=r"gdpr\.toml"):
        create_app(settings.model_copy(update={"policies_dir": tmp_path}))


def test_database_ahead_of_this_release_is_refused(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ahead.db'}")
    migrate(engine)
    with transaction(engine) as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    with pytest.raises(SchemaAheadError, match="9999_from_the_future"):
        migrate(engine)


def test_migrating_twice_changes_nothing(engine: Engine) -> None:
    assert migrate(engine) == migrate(engine)
