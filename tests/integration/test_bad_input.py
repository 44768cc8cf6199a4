"""Bad input gets a 4xx problem, never a 500: seeded random bodies against every endpoint."""

import random
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import bearer

_NASTY: list[Any] = [
    None, True, 0, -1, 2**63, 1.5, float("1e308"), "", " ", "x" * 5000, "\u0000", "😀",
    "2026-13-45T25:61:00Z", "2026-11-26T10:00:00", "P-1D", "PT0S", "+34", "+34 600 000 001",
    "a@b", "Europe/Nowhere", "US-ZZ", "EU", [], [None], {}, {"x": 1},
    "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+01:00",  # the calendar's ends
]  # fmt: skip

_FIELDS = {
    "customer": ["jurisdictions", "time_zone", "birth_date", "relationship", "contact_points"],
    "preference": ["status", "direction", "limits", "quiet_hours", "source"],
    "consent": ["purpose", "status", "legal_basis", "notice_version", "source", "captured_at",
                "expires_at", "form"],
    "notice": ["kind", "delivered_at", "method"],
    "check": ["customer_id", "channel", "purpose", "source", "campaign_id", "destination",
              "send_at", "dry_run", "automated", "exception", "data_categories"],
    "outcome": ["outcome"],
    "revocation": ["channel", "words", "destination", "received_at"],
}  # fmt: skip

_VALID = {
    "customer": {"jurisdictions": ["ES"], "contact_points": {"email": ["a@example.com"]}},
    "preference": {"status": "opted_in", "limits": [{"count": 1, "period": "P1D"}],
                   "quiet_hours": [{"days": ["sat"], "start": "09:00", "end": "14:00"}]},
    "consent": {"purpose": "marketing", "status": "granted"},
    "notice": {"kind": "glba_initial", "delivered_at": "2026-11-01T00:00:00Z", "method": "mail"},
    "check": {"customer_id": "C-fuzz", "channel": "email", "purpose": "marketing",
              "source": "campaign"},
    "outcome": {"outcome": "sent"},
    "revocation": {"channel": "sms", "words": "STOP"},
}  # fmt: skip


def _value(rng: random.Random) -> Any:
    if rng.random() < 0.2:
        return [_value(rng) for _ in range(rng.randint(0, 3))]
    if rng.random() < 0.1:
        return {
            rng.choice(["count", "period", "days", "start", "end", "email", "phone"]): _value(rng)
        }
    return rng.choice(_NASTY)


def _body(kind: str, rng: random.Random) -> Any:
    if rng.random() < 0.05:
        return rng.choice(_NASTY)  # not even an object
    body = dict(_VALID[kind])
    fields = _FIELDS[kind]
    for field in rng.sample(fields, rng.randint(1, min(3, len(fields)))):
        body[field] = _value(rng)
    if rng.random() < 0.1:
        body["unexpected"] = _value(rng)
    return body


def _send(client: TestClient, kind: str, body: Any, headers: dict[str, str], check_id: str) -> Any:
    paths = {
        "customer": ("PUT", "/v1/customers/C-fuzz"),
        "preference": ("PUT", "/v1/customers/C-fuzz/preferences/email"),
        "consent": ("POST", "/v1/customers/C-fuzz/consents"),
        "notice": ("POST", "/v1/customers/C-fuzz/notices"),
        "check": ("POST", "/v1/checks"),
        "outcome": ("POST", f"/v1/checks/{check_id}/outcome"),
        "revocation": ("POST", "/v1/customers/C-fuzz/revocations"),
    }
    method, path = paths[kind]
    return client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("kind", list(_FIELDS))
def test_random_bad_bodies_get_problems_never_500(
    client: TestClient, api_keys: dict[str, str], kind: str
) -> None:
    crm = bearer(api_keys["crm_service"])
    client.put("/v1/customers/C-fuzz", json=_VALID["customer"], headers=crm)
    check = client.post(
        "/v1/checks", json=_VALID["check"], headers={**crm, "Idempotency-Key": uuid.uuid4().hex}
    )
    rng = random.Random(f"{kind}-2026")
    for _ in range(60):
        headers = {**crm, "Idempotency-Key": uuid.uuid4().hex}
        response = _send(client, kind, _body(kind, rng), headers, check.json()["check_id"])
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["type"].startswith("urn:consent-gate:problem:")


_NASTY_IDS = ["%00", "a%00b", "%2F", "..", "%20", "%FF", "%F0%9F%98%80", "x" * 3000, "C%0A1"]
_PATHS = [  # method, path, the valid body that takes the request past validation
    ("GET", "/v1/customers/{id}", None),
    ("PUT", "/v1/customers/{id}", "customer"),
    ("PUT", "/v1/customers/{id}/preferences/email", "preference"),
    ("PUT", "/v1/customers/C-fuzz/preferences/{id}", "preference"),
    ("POST", "/v1/customers/{id}/consents", "consent"),
    ("POST", "/v1/customers/{id}/notices", "notice"),
    ("POST", "/v1/customers/{id}/revocations", "revocation"),
    ("GET", "/v1/checks/{id}", None),
    ("POST", "/v1/checks/{id}/outcome", "outcome"),
    ("PUT", "/v1/suppression-lists/{id}", None),
    ("DELETE", "/v1/suppression-lists/{id}", None),
]


@pytest.mark.parametrize(("method", "template", "kind"), _PATHS)
def test_odd_ids_in_the_path_get_problems_never_500(
    client: TestClient, api_keys: dict[str, str], method: str, template: str, kind: str | None
) -> None:
    """A NUL in a check id once reached PostgreSQL, which refused it with an error: a 500."""
    admin = bearer(api_keys["admin"])
    for odd in _NASTY_IDS:
        body = _VALID[kind] if kind else None
        response = client.request(
            method,
            template.format(id=odd),
            json=body,
            headers=admin,
            params={"source_date": "2026-12-01"} if "suppression" in template else None,
        )
        assert response.status_code < 500, (odd, response.text)
        assert response.headers["content-type"] == "application/problem+json", (odd, response)
