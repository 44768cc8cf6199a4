"""Clients that send slowly, or not at all: over real sockets against `consent serve`.

uvicorn timed nothing a client sent: a connection that sent nothing, or a byte a minute, was
held for ever, and enough of them left no file descriptor for a CRM's checks.
"""

import json
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Server, running_server

pytestmark = pytest.mark.e2e

HEAD_TIMEOUT = 1.0
BODY_IDLE_TIMEOUT = 1.5


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "CONSENT_DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('slow') / 'consent.db'}",
        "CONSENT_HEAD_TIMEOUT_SECONDS": str(HEAD_TIMEOUT),
        "CONSENT_BODY_IDLE_TIMEOUT_SECONDS": str(BODY_IDLE_TIMEOUT),
    }
    with running_server(env) as running:
        yield running


@pytest.fixture(scope="module")
def crm_key(server: Server) -> str:
    return server.key("crm_service", "slow-clients")


def _connect(server: Server) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def _until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    started, answer = time.monotonic(), b""
    while chunk := sock.recv(65536):
        answer += chunk
    return answer, time.monotonic() - started


def _one_answer(sock: socket.socket) -> bytes:
    """One answer on a kept-alive connection: its head, and its body by Content-Length."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
    length = int(fields[b"content-length"])
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def _assert_408(answer: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 408 Request Timeout", answer[:300]
    assert b"content-type: application/problem+json" in lines
    assert b"connection: close" in lines
    problem = json.loads(body)
    assert problem["type"] == "urn:consent-gate:problem:request-timeout"
    assert problem["status"] == 408


def _check_request(key: str, body: bytes) -> bytes:
    return (
        b"POST /v1/checks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + key.encode() + b"\r\nIdempotency-Key: slow-"
        + str(time.monotonic_ns()).encode() + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )  # fmt: skip


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(server: Server) -> None:
    with _connect(server) as sock:
        answer, waited = _until_closed(sock)
    assert answer == b""  # no request began: nothing to answer
    assert HEAD_TIMEOUT - 0.1 < waited < HEAD_TIMEOUT + 5


def test_a_head_still_arriving_at_its_deadline_is_408(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        time.sleep(HEAD_TIMEOUT / 2)
        sock.sendall(b"X-Slow: 1\r\n")  # a byte now and then does not buy more time
        answer, waited = _until_closed(sock)
    _assert_408(answer)
    assert waited < HEAD_TIMEOUT + 5


def test_a_kept_alive_connection_times_its_next_head_from_its_first_byte(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _one_answer(sock).startswith(b"HTTP/1.1 200 OK\r\n")
        time.sleep(HEAD_TIMEOUT * 1.5)  # idle between requests: uvicorn's keep-alive, 5 s
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        answer, waited = _until_closed(sock)
    _assert_408(answer)
    assert HEAD_TIMEOUT - 0.1 < waited < HEAD_TIMEOUT + 5


def test_a_pipelined_head_still_arriving_times_out_after_the_first_answer(
    server: Server,
) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\n")
        assert _one_answer(sock).startswith(b"HTTP/1.1 200 OK\r\n")
        answer, waited = _until_closed(sock)
    _assert_408(answer)
    assert waited < HEAD_TIMEOUT + 5


def test_a_body_that_stalls_is_408_and_nothing_is_decided(server: Server, crm_key: str) -> None:
    body = json.dumps({"customer_id": "C-none", "purpose": "marketing", "source": "data_use"})
    with _connect(server) as sock:
        sock.sendall(_check_request(crm_key, body.encode()) + body.encode()[:10])
        answer, waited = _until_closed(sock)
    _assert_408(answer)
    assert BODY_IDLE_TIMEOUT - 0.1 < waited < BODY_IDLE_TIMEOUT + 5


def test_a_body_that_pauses_but_keeps_coming_is_served(server: Server, crm_key: str) -> None:
    """The body's timeout is between reads, as nginx's is: a slow upload is not cut off."""
    body = json.dumps({"customer_id": "C-none", "purpose": "marketing", "source": "data_use"})
    pause = BODY_IDLE_TIMEOUT * 0.6
    with _connect(server) as sock:
        sock.sendall(_check_request(crm_key, body.encode()))
        for start in range(0, len(body), 30):  # 3 pauses: longer in all than the timeout
            time.sleep(pause)
            sock.sendall(body[start : start + 30].encode())
        answer = _one_answer(sock)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer[:300]
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["decision"] == "deny"  # unknown customer


def test_connections_held_open_do_not_lock_callers_out(tmp_path: Path) -> None:
    """More slow connections than the server may open files: before, every one was held for
    ever and no check could connect again; now they are let go and callers get in."""
    env = {
        "CONSENT_DATABASE_URL": f"sqlite:///{tmp_path / 'consent.db'}",
        "CONSENT_HEAD_TIMEOUT_SECONDS": str(HEAD_TIMEOUT),
    }
    with running_server(env) as server:
        resource.prlimit(_server_pid(server), resource.RLIMIT_NOFILE, (128, 128))
        held = []
        try:
            for _ in range(160):  # past the limit: the server stops accepting for a while
                sock = _connect(server)
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                held.append(sock)
            deadline = time.monotonic() + HEAD_TIMEOUT + 15
            while not _healthy(server):
                assert time.monotonic() < deadline, "still locked out"
        finally:
            for sock in held:
                sock.close()


def _server_pid(server: Server) -> int:
    assert server.process is not None
    return server.process.pid


def _healthy(server: Server) -> bool:
    try:
        return httpx.get(f"{server.base_url}/healthz", timeout=1.0).status_code == 200
    except httpx.TransportError:
        return False
