"""Logs are events with a request id, and no line carries an email address or phone number."""

import asyncio
import json
import logging
import logging.config
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient
from freezegun import freeze_time
from structlog.testing import capture_logs

from api.logs import MASK, REQUEST_ID, configure_logging, scrub_pii, stdlib_log_config
from tests.conftest import bearer
from tests.streams import stdout_writes

EMAIL = "maria.lopez@example.es"
PHONE = "+34 611 22 33 44"


def test_no_log_line_carries_contact_details(client: TestClient, api_keys: dict[str, str]) -> None:
    crm = bearer(api_keys["crm_service"])
    customer_id = f"C-{uuid.uuid4().hex[:8]}"
    body = {"jurisdictions": ["ES"], "contact_points": {"email": [EMAIL], "phone": [PHONE]}}
    with capture_logs() as events:
        client.put(f"/v1/customers/{customer_id}", json=body, headers=crm)
        check = {
            "customer_id": customer_id,
            "channel": "sms",
            "purpose": "marketing",
            "source": "campaign",
            "destination": PHONE,
        }
        client.post("/v1/checks", json=check, headers={**crm, "Idempotency-Key": "log-1"})
        client.put(
            f"/v1/customers/{customer_id}",
            json={"jurisdictions": ["ES"], "contact_points": {"email": ["not an email " + EMAIL]}},
            headers=crm,
        )
    text = json.dumps(events)
    decided = [e for e in events if e["event"] == "request.completed" and "decision" in e]
    assert decided[0]["decision"] == "deny"
    assert decided[0]["check_id"]
    for secret in (EMAIL, PHONE, PHONE.replace(" ", ""), "611223344"):
        assert secret not in text


def test_request_log_names_the_route_template_not_the_customer(
    client: TestClient, api_keys: dict[str, str]
) -> None:
    with capture_logs() as events:
        client.get("/v1/customers/C-secret-id", headers=bearer(api_keys["crm_service"]))
    completed = [e for e in events if e["event"] == "request.completed"]
    assert completed[0]["route"] == "/v1/customers/{customer_id}"
    assert "C-secret-id" not in json.dumps(events)


def test_request_id_is_echoed_and_bound(client: TestClient, api_keys: dict[str, str]) -> None:
    response = client.get(
        "/v1/checks/none", headers={**bearer(api_keys["crm_service"]), "X-Request-ID": "req-42"}
    )
    assert response.headers["x-request-id"] == "req-42"


def test_scrubber_masks_contact_details_that_slip_into_an_event() -> None:
    event = scrub_pii(None, "info", {"event": "x", "detail": f"bad {EMAIL} and {PHONE}"})
    assert event["detail"] == f"bad {MASK} and {MASK}"


def test_log_lines_are_json_with_the_request_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", cache_loggers=False)
    bound = REQUEST_ID.set("req-7")
    try:
        structlog.get_logger().info("probe.event", count=3)
    finally:
        REQUEST_ID.reset(bound)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["event"] == "probe.event"
    assert line["request_id"] == "req-7"
    assert line["count"] == 3
    assert line["level"] == "info"


def test_a_log_line_is_one_write_with_its_newline(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = stdout_writes(monkeypatch)
    configure_logging("info", cache_loggers=False)
    structlog.get_logger().info("probe.event", count=3)
    assert len(stream.calls) == 1
    assert stream.calls[0].endswith("}\n")
    assert json.loads(stream.calls[0])["event"] == "probe.event"


@freeze_time("2026-03-29T00:59:59.250Z")
def test_log_lines_are_stamped_in_utc_with_z(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", cache_loggers=False)
    structlog.get_logger().info("probe.event")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["timestamp"] == "2026-03-29T00:59:59.250000Z"


def test_scrubber_leaves_text_without_at_sign_or_digit_as_it_is() -> None:
    event = scrub_pii(None, "info", {"event": "request.completed", "method": "POST"})
    assert event == {"event": "request.completed", "method": "POST"}


def test_scrubber_masks_a_phone_number_with_no_at_sign() -> None:
    event = scrub_pii(None, "info", {"detail": f"call {PHONE} now"})
    assert event["detail"] == f"call {MASK} now"


def test_a_client_that_hangs_up_mid_body_is_no_server_error(
    app: FastAPI, api_keys: dict[str, str]
) -> None:
    """A load balancer timing out, a CRM process killed: the body never arrives whole."""
    sent: list[dict[str, Any]] = []
    parts = iter([{"type": "http.request", "body": b'{"customer_id": "C-1"', "more_body": True},
                  {"type": "http.disconnect"}])  # fmt: skip

    async def receive() -> dict[str, Any]:
        return next(parts)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"authorization", f"Bearer {api_keys['crm_service']}".encode()),
               (b"content-type", b"application/json"), (b"idempotency-key", b"gone-1")]  # fmt: skip
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/checks",
        "raw_path": b"/v1/checks",
        "query_string": b"",
        "headers": headers,
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
    }
    with capture_logs() as events:
        asyncio.run(app(scope, receive, send))
    completed = [e for e in events if e["event"] == "request.completed"]
    assert [e["status"] for e in completed] == [499]
    assert not [e for e in events if e["log_level"] == "error"]
    assert any(e["event"] == "request.client_disconnected" for e in events)


@pytest.fixture
def uvicorn_loggers() -> Iterator[None]:
    """Put uvicorn's loggers back as they were: the handler holds the captured stdout."""
    loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(list(log.handlers), log.level, log.propagate, log.disabled) for log in loggers]
    yield
    for log, (handlers, level, propagate, disabled) in zip(loggers, saved, strict=True):
        log.handlers[:] = handlers
        log.setLevel(level)
        log.propagate, log.disabled = propagate, disabled


@pytest.mark.usefixtures("uvicorn_loggers")
def test_the_servers_own_log_lines_are_json_and_scrubbed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """uvicorn logs an error that reached it with its traceback: one JSON line, masked."""
    logging.config.dictConfig(stdlib_log_config("warning"))
    server_log = logging.getLogger("uvicorn.error")
    try:
        raise ValueError(f"no route for {EMAIL} or {PHONE}")
    except ValueError:
        server_log.exception("Exception in ASGI application")
    server_log.info("below the level: not written")

    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["event"] == "Exception in ASGI application"
    assert line["level"] == "error"
    assert line["logger"] == "uvicorn.error"
    assert line["timestamp"].endswith("Z")
    assert "ValueError: no route for [redacted] or [redacted]" in line["exception"]
    assert EMAIL not in lines[0]
    assert PHONE not in lines[0]
