"""The HTTP contract in-process: bodies, status codes, problem+json, auth."""

import gzip
import uuid

import pytest
from fastapi.testclient import TestClient

from tests.conftest import bearer

PROBLEM = "application/problem+json"


def new_customer(client: TestClient, crm: dict[str, str], **body: object) -> str:
    customer_id = f"C-{uuid.uuid4().hex[:10]}"
    payload = {
        "jurisdictions": ["ES"],
        "time_zone": "Europe/Madrid",
        "contact_points": {"email": ["Ana@Example.com"], "phone": ["600 000 001"]},
    }
    payload.update(body)
    response = client.put(f"/v1/customers/{customer_id}", json=payload, headers=crm)
    assert response.status_code == 201, response.text
    return customer_id


def check(client: TestClient, crm: dict[str, str], key: str | None = None, **body: object) -> dict:
    payload = {"channel": "email", "purpose": "marketing", "source": "campaign"}
    payload.update(body)
    headers = {**crm, "Idempotency-Key": key or uuid.uuid4().hex}
    response = client.post("/v1/checks", json=payload, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_customer_round_trip_normalises_contact_points(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = new_customer(client, crm)
    again = client.put(
        f"/v1/customers/{customer_id}",
        json={"jurisdictions": ["ES"], "contact_points": {"email": ["ana@example.com"]}},
        headers=crm,
    )
    assert again.status_code == 200
    profile = client.get(f"/v1/customers/{customer_id}", headers=crm).json()
    assert profile["contact_points"] == {"email": ["ana@example.com"]}
    assert profile["preferences"]["email"]["status"] == "not_asked"


def test_phone_numbers_are_stored_in_e164(client: TestClient, crm: dict[str, str]) -> None:
    customer_id = new_customer(client, crm)
    profile = client.get(f"/v1/customers/{customer_id}", headers=crm).json()
    assert profile["contact_points"]["phone"] == ["+34600000001"]


@pytest.mark.usefixtures("fresh_lista_robinson")
def test_full_gate_flow_over_the_api(client: TestClient, crm: dict[str, str]) -> None:
    customer_id = new_customer(client, crm)
    denied = check(client, crm, customer_id=customer_id)
    assert denied["decision"] == "deny"
    assert {r["rule"] for r in denied["reasons"]} == {
        "eprivacy.art13_1.e_marketing_consent",
        "lssi.art21.e_marketing_consent",
    }
    assert all(r["citation"] and r["regime"] and r["message"] for r in denied["reasons"])
    consent = {
        "purpose": "marketing",
        "status": "granted",
        "legal_basis": "consent",
        "source": "web",
    }
    assert (
        client.post(f"/v1/customers/{customer_id}/consents", json=consent, headers=crm).status_code
        == 201
    )
    pref = {"status": "opted_in", "limits": [{"count": 1, "period": "P1D"}]}
    assert (
        client.put(
            f"/v1/customers/{customer_id}/preferences/email", json=pref, headers=crm
        ).status_code
        == 200
    )
    allowed = check(
        client, crm, key="flow-1", customer_id=customer_id, destination="ana@example.com"
    )
    assert allowed["decision"] == "allow"
    replay = client.post(
        "/v1/checks",
        headers={**crm, "Idempotency-Key": "flow-1"},
        json={
            "customer_id": customer_id,
            "channel": "email",
            "purpose": "marketing",
            "source": "campaign",
            "destination": "ana@example.com",
        },
    )
    assert replay.json() == allowed
    assert replay.headers["Idempotent-Replayed"] == "true"
    outcome = client.post(
        f"/v1/checks/{allowed['check_id']}/outcome", json={"outcome": "cancelled"}, headers=crm
    )
    assert outcome.status_code == 200
    assert outcome.json()["late"] is False
    recorded = client.get(f"/v1/checks/{allowed['check_id']}", headers=crm).json()
    assert recorded["outcome"]["outcome"] == "cancelled"
    # The outcome's own audit entry, as first answered, when read back and when reported again.
    entry = outcome.json()["audit_entry_id"]
    assert entry > recorded["audit_entry_id"]
    assert recorded["outcome"]["audit_entry_id"] == entry
    again = client.post(
        f"/v1/checks/{allowed['check_id']}/outcome", json={"outcome": "cancelled"}, headers=crm
    )
    assert again.json() == outcome.json()
    assert check(client, crm, customer_id=customer_id)["decision"] == "allow"


def test_a_german_customer_is_called_and_shared_only_with_a_basis_on_record(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = new_customer(
        client,
        crm,
        jurisdictions=["DE"],
        time_zone="Europe/Berlin",
        contact_points={"phone": ["+49 30 1234567"]},
    )
    call = {
        "customer_id": customer_id,
        "channel": "phone",
        "source": "telemarketing",
        "automated": False,
    }
    share = {
        "customer_id": customer_id,
        "channel": None,
        "purpose": "share_third_parties",
        "source": "data_use",
    }
    assert [r["rule"] for r in check(client, crm, **call)["reasons"]] == [
        "eprivacy.art13_3.marketing_calls"
    ]
    assert [r["rule"] for r in check(client, crm, **share)["reasons"]] == [
        "gdpr.art6.lawful_basis.share_third_parties"
    ]
    url = f"/v1/customers/{customer_id}"
    for purpose, legal_basis in (("marketing", "consent"), ("share_third_parties", "contract")):
        record = {"purpose": purpose, "status": "granted", "legal_basis": legal_basis}
        assert client.post(f"{url}/consents", json=record, headers=crm).status_code == 201
    opted_in = client.put(f"{url}/preferences/phone", json={"status": "opted_in"}, headers=crm)
    assert opted_in.status_code == 200
    assert check(client, crm, **call)["decision"] == "allow"
    assert check(client, crm, **share)["decision"] == "allow"


@pytest.mark.usefixtures("fresh_lista_robinson")
def test_a_record_of_legitimate_interests_is_no_consent_to_email(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = new_customer(client, crm, jurisdictions=["FR"], time_zone="Europe/Paris")
    url = f"/v1/customers/{customer_id}"
    interests = {"purpose": "marketing", "status": "granted", "legal_basis": "legitimate_interests"}
    assert client.post(f"{url}/consents", json=interests, headers=crm).status_code == 201
    opted_in = client.put(f"{url}/preferences/email", json={"status": "opted_in"}, headers=crm)
    assert opted_in.status_code == 200
    profile = client.get(url, headers=crm).json()
    assert profile["consents"]["marketing"]["legal_basis"] == "legitimate_interests"
    denied = check(client, crm, customer_id=customer_id)
    assert [r["rule"] for r in denied["reasons"]] == ["eprivacy.art13_1.e_marketing_consent"]
    consent = {"purpose": "marketing", "status": "granted", "legal_basis": "consent"}
    assert client.post(f"{url}/consents", json=consent, headers=crm).status_code == 201
    assert check(client, crm, customer_id=customer_id)["decision"] == "allow"


def test_a_grant_on_another_basis_does_not_lift_the_customers_withdrawal(
    client: TestClient, crm: dict[str, str]
) -> None:
    """A US customer unsubscribed (CAN-SPAM); a later record of legitimate interests must not
    hide that from the opt-out rule. It joins the history; the customer's own grant lifts it."""
    customer_id = new_customer(
        client,
        crm,
        jurisdictions=["US-NY"],
        time_zone="America/New_York",
        contact_points={"email": ["ann@example.com"]},
    )
    url = f"/v1/customers/{customer_id}"

    def record(status: str, legal_basis: str | None = None) -> None:
        body = {"purpose": "marketing", "status": status, "legal_basis": legal_basis}
        assert client.post(f"{url}/consents", json=body, headers=crm).status_code == 201

    record("withdrawn")
    record("granted", "legitimate_interests")
    profile = client.get(url, headers=crm).json()
    assert profile["consents"]["marketing"]["status"] == "withdrawn"
    assert [row["status"] for row in profile["consent_history"]] == ["withdrawn", "granted"]
    denied = {r["rule"] for r in check(client, crm, customer_id=customer_id)["reasons"]}
    assert {"canspam.opt_out", "customer.consent_withdrawn"} <= denied
    record("granted", "consent")
    assert client.get(url, headers=crm).json()["consents"]["marketing"]["status"] == "granted"
    assert check(client, crm, customer_id=customer_id)["decision"] == "allow"


def test_same_idempotency_key_with_another_body_is_409(
    client: TestClient, crm: dict[str, str]
) -> None:
    check(client, crm, key="dup-key", customer_id="nobody")
    response = client.post(
        "/v1/checks",
        headers={**crm, "Idempotency-Key": "dup-key"},
        json={
            "customer_id": "nobody",
            "channel": "sms",
            "purpose": "marketing",
            "source": "campaign",
        },
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:consent-gate:problem:idempotency-key-reused"


def test_missing_idempotency_key_is_a_problem(client: TestClient, crm: dict[str, str]) -> None:
    response = client.post(
        "/v1/checks",
        headers=crm,
        json={"customer_id": "x", "purpose": "marketing", "source": "campaign"},
    )
    assert response.status_code == 400
    assert response.json()["type"] == "urn:consent-gate:problem:idempotency-key-missing"


def test_two_idempotency_keys_are_a_problem_and_nothing_is_decided(
    client: TestClient, crm: dict[str, str]
) -> None:
    """The first was read: a proxy passing on the second, or joining both, turned a retry
    into a second check."""
    customer_id = new_customer(client, crm)
    body = {"customer_id": customer_id, "channel": "email", "purpose": "service",
            "source": "transactional"}  # fmt: skip
    headers = [*crm.items(), ("Idempotency-Key", "k-1"), ("Idempotency-Key", "k-2")]
    response = client.post("/v1/checks", headers=headers, json=body)
    assert response.status_code == 400
    assert response.json()["type"] == "urn:consent-gate:problem:idempotency-key-missing"
    assert "one unique Idempotency-Key header" in response.json()["detail"]
    for key in ("k-1", "k-2"):  # neither was used: each decides afresh
        first = client.post("/v1/checks", headers={**crm, "Idempotency-Key": key}, json=body)
        assert first.status_code == 200
        assert "idempotent-replayed" not in first.headers


def test_validation_errors_list_every_bad_field(client: TestClient, crm: dict[str, str]) -> None:
    response = client.post(
        "/v1/checks",
        headers={**crm, "Idempotency-Key": "v"},
        json={
            "customer_id": "x",
            "channel": "fax",
            "purpose": "spam",
            "source": "campaign",
            "send_at": "2026-11-26T10:00:00",
            "colour": "red",
        },
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "urn:consent-gate:problem:validation-error"
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"body.channel", "body.purpose", "body.send_at", "body.colour"}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/customers/C-1", {"jurisdictions": ["XX"]}),
        ("/v1/customers/C-1", {"jurisdictions": ["US-FLA"]}),  # the shape of one, no state
        ("/v1/customers/C-1", {"jurisdictions": ["ES-XX"]}),
        ("/v1/customers/C-1", {"jurisdictions": ["ES"], "time_zone": "Mars/Olympus"}),
        # Files ZoneInfo loads that are no IANA zone: the server's own, leap-second, unknown.
        ("/v1/customers/C-1", {"jurisdictions": ["ES"], "time_zone": "localtime"}),
        ("/v1/customers/C-1", {"jurisdictions": ["ES"], "time_zone": "right/Europe/Madrid"}),
        ("/v1/customers/C-1", {"jurisdictions": ["ES"], "time_zone": "posixrules"}),
        ("/v1/customers/C-1", {"jurisdictions": ["ES"], "time_zone": "Factory"}),
        ("/v1/customers/C-1", {"jurisdictions": ["ES"], "contact_points": {"phone": ["12"]}}),
        (
            "/v1/customers/C-1",
            {"jurisdictions": ["ES"], "contact_points": {"email": ["not-an-email"]}},
        ),
        (
            "/v1/customers/C-1/preferences/email",
            {"status": "opted_in", "limits": [{"count": 1, "period": "1 day"}]},
        ),
        (
            "/v1/customers/C-1/preferences/email",
            {
                "status": "opted_in",
                "quiet_hours": [{"days": ["sun"], "start": "25:00", "end": "01:00"}],
            },
        ),
        ("/v1/customers/C-1/preferences/fax", {"status": "opted_in"}),
    ],
)
def test_bad_input_is_a_4xx_problem_never_a_500(
    client: TestClient, crm: dict[str, str], path: str, body: dict
) -> None:
    response = client.put(path, json=body, headers=crm)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    "zone", ["Europe/Madrid", "America/Argentina/Buenos_Aires", "US/Eastern", "UTC"]
)
def test_iana_zones_and_their_backward_links_are_taken(
    client: TestClient, crm: dict[str, str], zone: str
) -> None:
    body = {"jurisdictions": ["ES"], "time_zone": zone}
    response = client.put(f"/v1/customers/C-zone-{uuid.uuid4().hex[:8]}", json=body, headers=crm)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("code", ["US-FL", "US-DC", "US-PR", "CA-QC", "ES-MD", "ES-CT", "GB-ENG"])
def test_existing_subdivisions_are_taken(
    client: TestClient, crm: dict[str, str], code: str
) -> None:
    body = {"jurisdictions": [code]}
    response = client.put(f"/v1/customers/C-sub-{uuid.uuid4().hex[:8]}", json=body, headers=crm)
    assert response.status_code == 201, response.text


def test_malformed_json_is_a_400_problem(client: TestClient, crm: dict[str, str]) -> None:
    response = client.post(
        "/v1/checks",
        content=b"{not json",
        headers={**crm, "Idempotency-Key": "m", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["type"] == "urn:consent-gate:problem:malformed-json"


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/checks"), ("PUT", "/v1/customers/C-gz"), ("POST", "/v1/customers/C-gz/notices")],
)
def test_a_compressed_body_is_a_415_naming_the_coding_the_api_reads(
    client: TestClient, crm: dict[str, str], method: str, path: str
) -> None:
    body = gzip.compress(b'{"customer_id": "C-gz", "channel": "email"}')
    headers = {**crm, "Idempotency-Key": "gz", "Content-Type": "application/json"}
    response = client.request(
        method, path, content=body, headers={**headers, "Content-Encoding": "gzip"}
    )
    assert response.status_code == 415
    assert response.json()["type"] == "urn:consent-gate:problem:unsupported-content-encoding"
    assert response.headers["Accept-Encoding"] == "identity"
    malformed = client.request(
        method, path, content=b"{not json", headers={**headers, "Content-Encoding": "identity"}
    )
    assert malformed.json()["type"] == "urn:consent-gate:problem:malformed-json"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/checks"),
        ("PUT", "/v1/customers/C-deep"),
        ("POST", "/v1/customers/C-deep/consents"),
        ("PUT", "/v1/customers/C-deep/preferences/email"),
    ],
)
def test_a_deeply_nested_body_is_malformed_json_on_every_endpoint(
    client: TestClient, crm: dict[str, str], method: str, path: str
) -> None:
    """json.loads recursed into it on the routed endpoints: a 400 of another type."""
    deep = b'{"jurisdictions": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    headers = {**crm, "Idempotency-Key": "deep", "Content-Type": "application/json"}
    response = client.request(method, path, content=deep, headers=headers)
    assert response.status_code == 400
    assert response.json()["type"] == "urn:consent-gate:problem:malformed-json"


def test_missing_or_bad_key_is_401_and_wrong_role_is_403(
    client: TestClient, api_keys: dict[str, str]
) -> None:
    assert client.get("/v1/checks/x").status_code == 401
    assert client.get("/v1/checks/x", headers=bearer("cg_nope_nope")).status_code == 401
    body = {"customer_id": "x", "purpose": "marketing", "source": "campaign"}
    officer = {**bearer(api_keys["compliance_officer"]), "Idempotency-Key": "r"}
    response = client.post("/v1/checks", json=body, headers=officer)
    assert response.status_code == 403
    assert response.json()["type"] == "urn:consent-gate:problem:forbidden"


def test_customer_key_reaches_only_its_own_record(
    client: TestClient, api_keys: dict[str, str]
) -> None:
    own = client.get("/v1/customers/C-self", headers=bearer(api_keys["customer"]))
    assert own.status_code == 404  # allowed through, and there is no such record yet
    other = client.get("/v1/customers/C-other", headers=bearer(api_keys["customer"]))
    assert other.status_code == 403


def test_unknown_route_is_a_404_problem(client: TestClient, crm: dict[str, str]) -> None:
    response = client.get("/v1/nothing", headers=crm)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_unknown_check_is_a_404_problem(client: TestClient, crm: dict[str, str]) -> None:
    response = client.get(f"/v1/checks/{uuid.uuid4()}", headers=crm)
    assert response.status_code == 404
    assert response.json()["type"] == "urn:consent-gate:problem:check-not-found"


@pytest.mark.parametrize(
    "check_id", ["%00", "not-a-check", "x" * 5000, "01A24F82-D914-76C8-A7C6-EE652804537E"]
)
def test_a_malformed_check_id_is_a_404_problem(
    client: TestClient, crm: dict[str, str], check_id: str
) -> None:
    """On PostgreSQL a NUL in the id once reached the store and answered 500."""
    read = client.get(f"/v1/checks/{check_id}", headers=crm)
    reported = client.post(f"/v1/checks/{check_id}/outcome", json={"outcome": "sent"}, headers=crm)
    for response in (read, reported):
        assert response.status_code == 404, response.text
        assert response.json()["type"] == "urn:consent-gate:problem:check-not-found"


def test_openapi_has_an_example_for_each_body(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("CustomerIn", "PreferenceIn", "ConsentIn", "NoticeIn", "CheckIn", "OutcomeIn"):
        assert schemas[name].get("examples"), name


def test_nul_characters_are_a_validation_error_not_a_store_error(
    client: TestClient, crm: dict[str, str]
) -> None:
    customer_id = new_customer(client, crm)
    path = f"/v1/customers/{customer_id}/preferences/email"
    response = client.put(path, json={"status": "opted_in", "source": "por\u0000tal"}, headers=crm)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body.source"]
