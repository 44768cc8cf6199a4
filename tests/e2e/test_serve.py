"""The service as a CRM meets it: `consent serve` on a free port, real HTTP, both stores."""

import itertools
import json
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bench.gate import noon_in_dallas_ahead
from tests.concurrency import run_together
from tests.e2e.server import Server, cli, running_server, store_env

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, master_key_b64: str
) -> Iterator[Server]:
    with running_server(store_env(request, tmp_path_factory, master_key_b64), workers=2) as running:
        yield running


@pytest.fixture(scope="module")
def admin(server: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.key('admin', 'lists')}"}


def _load_national_dnc(server: Server, admin: dict[str, str], csv: str = "") -> None:
    """A national do-not-call copy dated today, over HTTP as a dialer's operator loads it."""
    today = datetime.now(UTC).date().isoformat()
    response = httpx.put(
        f"{server.base_url}/v1/suppression-lists/national_dnc",
        params={"source_date": today},
        content=csv.encode(),
        headers={**admin, "Content-Type": "text/csv"},
        timeout=30,
    )
    assert response.status_code in (200, 201), response.text


@pytest.fixture
def fresh_registry(server: Server, admin: dict[str, str]) -> None:
    """US marketing calls are checked against the registry (47 CFR 64.1200(c)(2))."""
    _load_national_dnc(server, admin)


def _phone_customer(server: Server, crm: dict[str, str], preference: dict[str, object]) -> str:
    customer_id = f"C-{uuid.uuid4().hex[:10]}"
    body = {"jurisdictions": ["US-TX"], "contact_points": {"phone": ["+1 214 555 0100"]}}
    with httpx.Client(base_url=server.base_url, headers=crm, timeout=30) as client:
        assert client.put(f"/v1/customers/{customer_id}", json=body).status_code == 201
        # TCPA 47 CFR 64.1200(a)(2): a dialer's marketing call needs written consent.
        consent = {"purpose": "marketing", "status": "granted", "form": "written",
                   "captured_at": "2026-01-01T00:00:00Z"}  # fmt: skip
        path = f"/v1/customers/{customer_id}/consents"
        assert client.post(path, json=consent).status_code == 201
        path = f"/v1/customers/{customer_id}/preferences/phone"
        assert client.put(path, json=preference).status_code == 200
    return customer_id


# Noon in Dallas on a weekday ahead (a send_at already past is decided as now): inside the
# TCPA's 8 a.m. - 9 p.m., whenever the suite runs.
SEND_AT = noon_in_dallas_ahead(datetime.now(UTC))


def _post_check(server: Server, crm: dict[str, str], key: str, customer_id: str) -> dict[str, str]:
    check = {"customer_id": customer_id, "channel": "phone", "purpose": "marketing",
             "source": "telemarketing", "send_at": SEND_AT}  # fmt: skip
    with httpx.Client(base_url=server.base_url, headers=crm, timeout=30) as client:
        response = client.post("/v1/checks", headers={"Idempotency-Key": key}, json=check)
    assert response.status_code == 200, response.text
    answer: dict[str, str] = response.json()
    return answer


@pytest.mark.usefixtures("fresh_registry")
def test_limit_of_one_allows_exactly_one_of_32_concurrent_http_callers(server: Server) -> None:
    crm = {"Authorization": f"Bearer {server.key('crm_service', 'dialer')}"}
    one_a_day = {"status": "opted_in", "limits": [{"count": 1, "period": "P1D"}]}
    customer_id = _phone_customer(server, crm, one_a_day)
    answers = run_together(32, lambda: _post_check(server, crm, uuid.uuid4().hex, customer_id))
    assert sorted(a["decision"] for a in answers) == ["allow"] + ["deny"] * 31


@pytest.mark.usefixtures("fresh_registry")
def test_limits_of_one_hold_for_many_customers_called_at_once(server: Server) -> None:
    """64 callers, 8 for each of 8 customers, interleaved: enough at once for PostgreSQL's
    runner to put several customers in one transaction (and keep each customer's other
    checks for later ones), on both workers."""
    crm = {"Authorization": f"Bearer {server.key('crm_service', 'campaign')}"}
    one_a_day = {"status": "opted_in", "limits": [{"count": 1, "period": "P1D"}]}
    customers = [_phone_customer(server, crm, one_a_day) for _ in range(8)]
    turns = itertools.cycle(customers)
    lock = threading.Lock()

    def call() -> tuple[str, str]:
        with lock:
            customer_id = next(turns)
        return customer_id, _post_check(server, crm, uuid.uuid4().hex, customer_id)["decision"]

    answers = run_together(64, call)
    allowed = Counter(customer for customer, decision in answers if decision == "allow")
    assert allowed == dict.fromkeys(customers, 1)
    assert len(answers) == 64


@pytest.mark.usefixtures("fresh_registry")
def test_32_concurrent_http_retries_with_one_key_are_one_check(server: Server) -> None:
    crm = {"Authorization": f"Bearer {server.key('crm_service', 'retrier')}"}
    customer_id = _phone_customer(server, crm, {"status": "opted_in"})
    key = uuid.uuid4().hex
    answers = run_together(32, lambda: _post_check(server, crm, key, customer_id))
    assert len({a["check_id"] for a in answers}) == 1


def test_a_manual_call_to_a_number_on_the_registry_is_denied_over_http(
    server: Server, admin: dict[str, str]
) -> None:
    _load_national_dnc(server, admin, "214,5550199\n")  # the registry's own line format
    crm = {"Authorization": f"Bearer {server.key('crm_service', 'manual-dialer')}"}
    customer_id = f"C-{uuid.uuid4().hex[:10]}"
    body = {"jurisdictions": ["US-TX"], "contact_points": {"phone": ["+1 214 555 0199"]}}
    check = {"customer_id": customer_id, "channel": "phone", "purpose": "marketing",
             "source": "telemarketing", "send_at": SEND_AT, "automated": False}  # fmt: skip
    with httpx.Client(base_url=server.base_url, headers=crm, timeout=30) as client:
        assert client.put(f"/v1/customers/{customer_id}", json=body).status_code == 201
        opted_in = {"status": "opted_in"}
        path = f"/v1/customers/{customer_id}/preferences/phone"
        assert client.put(path, json=opted_in).status_code == 200
        answer = client.post("/v1/checks", json=check, headers={"Idempotency-Key": "dnc-1"})
    assert [r["rule"] for r in answer.json()["reasons"]] == ["tcpa.national_dnc"]


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


def test_a_body_over_the_default_limit_is_413_over_http_and_the_connection_serves_on(
    server: Server,
) -> None:
    """2 MiB against the default 1 MiB: refused from its Content-Length, unread."""
    crm = {"Authorization": f"Bearer {server.key('crm_service', 'campaigns')}"}
    body = b'{"customer_id": "ghost"' + b" " * (2 << 20) + b"}"
    with httpx.Client(base_url=server.base_url, headers=crm, timeout=30) as client:
        response = client.post(
            "/v1/checks",
            headers={"Idempotency-Key": "e2e-too-large", "Content-Type": "application/json"},
            content=body,
        )
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:consent-gate:problem:payload-too-large"
        assert client.get("/healthz").status_code == 200


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


def test_every_line_the_server_writes_is_json_uvicorns_own_included(tmp_path: Path) -> None:
    """uvicorn's warnings (here a request that is not HTTP) come out as our JSON lines, from
    every worker process, not as plain text beside them."""
    env = {"CONSENT_DATABASE_URL": f"sqlite:///{tmp_path}/log.db"}  # development defaults
    with running_server(env, workers=2) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        for _ in range(4):  # on fresh connections: some reach each worker
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
                sock.recv(1024)  # uvicorn answers 400 and closes
        assert httpx.get(f"{server.base_url}/healthz").status_code == 200
    lines = [json.loads(line) for line in server.output().splitlines()]  # each one JSON
    warnings = [line for line in lines if line.get("logger") == "uvicorn.error"]
    assert warnings, server.output()
    assert {line["event"] for line in warnings} == {"Invalid HTTP request received."}
    assert all(line["level"] == "warning" and line["timestamp"].endswith("Z") for line in warnings)


@pytest.fixture(params=["sqlite", "postgres"])
def short_key_cache(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, master_key_b64: str
) -> dict[str, str]:
    """A server's environment on either store, remembering a key for half a second."""
    env = store_env(request, tmp_path_factory, master_key_b64)
    return {**env, "CONSENT_AUTH_CACHE_SECONDS": "0.5"}


def test_a_key_revoked_while_the_server_runs_is_refused_within_the_cache_period(
    short_key_cache: dict[str, str],
) -> None:
    env = short_key_cache
    with running_server(env) as server:
        key = server.key("crm_service", "revoked-live")
        headers = {"Authorization": f"Bearer {key}"}
        unknown_check = f"{server.base_url}/v1/checks/{uuid.uuid4()}"
        assert httpx.get(unknown_check, headers=headers).status_code == 404  # let in
        done = cli(env, "keys", "revoke", key)
        assert done.returncode == 0, done.stderr
        revoked_at = time.monotonic()
        while (status := httpx.get(unknown_check, headers=headers).status_code) != 401:
            assert status == 404
            assert time.monotonic() - revoked_at < 5.0, "still let in 5 s after revocation"
            time.sleep(0.05)


def test_checks_are_decided_while_a_large_list_loads_on_sqlite(tmp_path: Path) -> None:
    """A list is written a chunk a transaction, so SQLite's one writer is free for the gate
    between chunks. In one transaction, 300,000 numbers held it for longer than the gate's
    5 s store timeout, and the checks meanwhile failed closed (503)."""
    env = {"CONSENT_DATABASE_URL": f"sqlite:///{tmp_path}/lists.db"}  # development defaults
    with running_server(env) as server:
        admin = {"Authorization": f"Bearer {server.key('admin', 'lists')}"}
        crm = {"Authorization": f"Bearer {server.key('crm_service', 'dialer')}"}
        profile = {"jurisdictions": ["US-TX"], "contact_points": {"phone": ["+1 214 555 0100"]}}
        assert httpx.put(
            f"{server.base_url}/v1/customers/C-load", json=profile, headers=admin
        ).status_code in (200, 201)
        copy = "".join(f"305,{number}\n" for number in range(2_000_000, 2_300_000)).encode()
        loaded: list[httpx.Response] = []
        loading = threading.Thread(
            target=lambda: loaded.append(
                httpx.put(
                    f"{server.base_url}/v1/suppression-lists/national_dnc",
                    params={"source_date": datetime.now(UTC).date().isoformat()},
                    content=copy,
                    headers={**admin, "Content-Type": "text/csv"},
                    timeout=120,
                )
            )
        )
        check = {"customer_id": "C-load", "channel": "post", "purpose": "service",
                 "source": "transactional"}  # fmt: skip
        answers: list[tuple[int, float]] = []  # status, seconds (for the failure message)
        loading.start()
        with httpx.Client(base_url=server.base_url, headers=crm, timeout=30) as client:
            while loading.is_alive():
                started = time.monotonic()
                answer = client.post(
                    "/v1/checks", json=check, headers={"Idempotency-Key": uuid.uuid4().hex}
                )
                answers.append((answer.status_code, time.monotonic() - started))
                time.sleep(0.05)
        loading.join()
    assert loaded[0].status_code == 201, loaded[0].text
    assert loaded[0].json()["entry_count"] == 300_000
    assert len(answers) >= 10  # the load lasted long enough to say something
    # Decided, not failed closed: how fast is bench business, not a test's.
    assert {status for status, _ in answers} == {200}, answers


def test_answers_do_not_name_the_server_software(server: Server) -> None:
    answers = [
        httpx.get(f"{server.base_url}/healthz"),
        httpx.get(f"{server.base_url}/v1/nothing"),  # a problem, answered by the app
    ]
    for answer in answers:
        assert "server" not in answer.headers, answer.headers


def _raw_exchange(base_url: str, request: bytes) -> bytes:
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):  # the server closes after a 400
            answer += chunk
    return answer


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /v1/checks HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\x01b\r\n\r\n",
        b"GET /v1/checks/x HTTP/1.1\r\nHost: x\r\nX-Null: a\x00b\r\n\r\n",
        b"GARBAGE\r\n\r\n",
    ],
)
def test_a_request_the_parser_refuses_is_answered_with_a_problem(
    server: Server, request_bytes: bytes
) -> None:
    """uvicorn's own answer was text/plain, the one error a client could not read as RFC 9457."""
    answer = _raw_exchange(server.base_url, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 400 Bad Request"
    assert b"content-type: application/problem+json" in lines
    problem = json.loads(body)
    assert problem["type"] == "urn:consent-gate:problem:bad-request"
    assert problem["status"] == 400
    assert httpx.get(f"{server.base_url}/healthz").status_code == 200


def _head(*fields: bytes, end: bool = True) -> bytes:
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + b"".join(
        field + b"\r\n" for field in fields
    )
    return head + b"\r\n" if end else head


@pytest.mark.parametrize(
    "request_bytes",
    [
        _head(b"X-Big: " + b"a" * (40 << 10), end=False),  # still arriving: never held whole
        _head(b"X-A: " + b"a" * (20 << 10), b"X-B: " + b"b" * (20 << 10)),  # whole, in one read
        _head(*(b"X-H%d: v" % i for i in range(99))),  # 101 fields with Host and Connection
    ],
    ids=["arriving", "whole", "fields"],
)
def test_a_request_head_past_its_limits_is_431(server: Server, request_bytes: bytes) -> None:
    """uvicorn held any head: a 10 MiB header, 100,000 fields, before any key was checked."""
    head, _, body = _raw_exchange(server.base_url, request_bytes).partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert json.loads(body)["type"] == "urn:consent-gate:problem:request-header-fields-too-large"


def test_a_head_within_its_limits_is_served(server: Server) -> None:
    fields = [b"X-Big: " + b"a" * (30 << 10), *(b"X-H%d: v" % i for i in range(97))]  # 100
    answer = _raw_exchange(server.base_url, _head(*fields))
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer[:200]


def test_an_export_larger_than_a_page_is_one_json_document_over_http(
    server: Server, admin: dict[str, str]
) -> None:
    """The export's checks are read and sent a page (500) at a time through the real server
    and its middlewares; what arrives is the one document, every check in send order."""
    crm = {"Authorization": f"Bearer {server.key('crm_service', 'campaigns')}"}
    customer_id = _phone_customer(server, crm, {"status": "opted_in"})
    texts = 1_001
    check = {"customer_id": customer_id, "channel": "sms", "purpose": "service",
             "source": "transactional"}  # fmt: skip
    with httpx.Client(base_url=server.base_url, headers=crm, timeout=30) as client:
        for _ in range(texts):
            key = {"Idempotency-Key": uuid.uuid4().hex}
            response = client.post("/v1/checks", headers=key, json=check)
            assert response.status_code == 200, response.text
    with httpx.Client(base_url=server.base_url, headers=admin, timeout=30) as client:
        response = client.get(f"/v1/customers/{customer_id}/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    export = response.json()
    assert export["customer_id"] == customer_id
    assert len(export["checks"]) == texts
    order = [(check["send_at"], check["check_id"]) for check in export["checks"]]
    assert order == sorted(order)
    assert list(export)[-3:] == ["checks", "exported_at", "audit_entry_id"]
