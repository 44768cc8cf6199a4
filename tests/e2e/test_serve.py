"""The service as a CRM meets it: `consent serve` on a free port, real HTTP, both stores."""

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Server, cli, running_server
from tests.stores import postgres_url

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, master_key_b64: str
) -> Iterator[Server]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'consent.db'}"
    else:
        url = postgres_url(request.getfixturevalue("postgres_schema"))
    env = {
        "CONSENT_DATABASE_URL": url,
        "CONSENT_MASTER_KEY": master_key_b64,
        "CONSENT_ENVIRONMENT": "test",
    }
    with running_server(env, workers=2) as running:
        yield running


def test_limit_of_one_allows_exactly_one_of_32_concurrent_http_callers(server: Server) -> None:
    crm = {"Authorization": f"Bearer {server.key('crm_service', 'dialer')}"}
    customer_id = f"C-{uuid.uuid4().hex[:10]}"
    with httpx.Client(base_url=server.base_url, headers=crm, timeout=30) as client:
        assert (
            client.put(
                f"/v1/customers/{customer_id}",
                json={"jurisdictions": ["US-TX"], "contact_points": {"phone": ["+1 214 555 0100"]}},
            ).status_code
            == 201
        )
        limit = {"status": "opted_in", "limits": [{"count": 1, "period": "P1D"}]}
        assert (
            client.put(f"/v1/customers/{customer_id}/preferences/phone", json=limit).status_code
            == 200
        )
    decisions: list[str] = []
    barrier = threading.Barrier(32)

    def call() -> None:
        with httpx.Client(base_url=server.base_url, headers=crm, timeout=30) as client:
            barrier.wait()
            response = client.post(
                "/v1/checks",
                headers={"Idempotency-Key": uuid.uuid4().hex},
                json={
                    "customer_id": customer_id,
                    "channel": "phone",
                    "purpose": "marketing",
                    "source": "telemarketing",
                },
            )
            decisions.append(response.json()["decision"])

    threads = [threading.Thread(target=call) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(decisions) == ["allow"] + ["deny"] * 31


def test_check_decided_over_http_is_recorded_and_readable(server: Server) -> None:
    crm = {"Authorization": f"Bearer {server.key('crm_service', 'campaigns')}"}
    with httpx.Client(base_url=server.base_url, headers=crm, timeout=30) as client:
        response = client.post(
            "/v1/checks",
            headers={"Idempotency-Key": "e2e-1"},
            json={
                "customer_id": "ghost",
                "channel": "email",
                "purpose": "marketing",
                "source": "campaign",
            },
        )
        assert response.status_code == 200
        answer = response.json()
        assert answer["decision"] == "deny"
        assert response.headers["x-request-id"]
        recorded = client.get(f"/v1/checks/{answer['check_id']}").json()
        assert recorded["reasons"] == answer["reasons"]
        assert client.get("/docs").status_code == 200


def test_production_refuses_to_start_with_the_development_key(
    tmp_path: pytest.TempPathFactory,
) -> None:
    env = {
        "CONSENT_ENVIRONMENT": "production",
        "CONSENT_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
    }
    done = cli(env, "serve", "--port", "1")
    assert done.returncode != 0
    assert "CONSENT_MASTER_KEY" in done.stderr + done.stdout


def test_development_defaults_serve_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    """The README's first command: no settings at all, a SQLite file created and migrated."""
    with running_server({}, cwd=str(tmp_path)) as server:
        crm = {"Authorization": f"Bearer {server.key('crm_service', 'readme')}"}
        body = {"jurisdictions": ["ES"], "contact_points": {"email": ["ana@example.com"]}}
        response = httpx.put(f"{server.base_url}/v1/customers/C-1001", json=body, headers=crm)
        assert response.status_code == 201
    assert (tmp_path / "consent.db").is_file()


def test_32_concurrent_http_retries_with_one_key_are_one_check(server: Server) -> None:
    crm = {"Authorization": f"Bearer {server.key('crm_service', 'retrier')}"}
    customer_id = f"C-{uuid.uuid4().hex[:10]}"
    body = {"jurisdictions": ["US-TX"], "contact_points": {"phone": ["+1 214 555 0100"]}}
    with httpx.Client(base_url=server.base_url, headers=crm, timeout=30) as client:
        assert client.put(f"/v1/customers/{customer_id}", json=body).status_code == 201
        opted_in = {"status": "opted_in"}
        assert (
            client.put(f"/v1/customers/{customer_id}/preferences/phone", json=opted_in).status_code
            == 200
        )
    check = {
        "customer_id": customer_id,
        "channel": "phone",
        "purpose": "marketing",
        "source": "telemarketing",
    }
    key = uuid.uuid4().hex
    check_ids: list[str] = []
    barrier = threading.Barrier(32)

    def call() -> None:
        with httpx.Client(base_url=server.base_url, headers=crm, timeout=30) as client:
            barrier.wait()
            response = client.post("/v1/checks", headers={"Idempotency-Key": key}, json=check)
            check_ids.append(response.json()["check_id"])

    threads = [threading.Thread(target=call) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(check_ids) == 32
    assert len(set(check_ids)) == 1
