"""Suppression lists on both stores: loading over HTTP, what is stored, and the gate's use.

A list outlives the test that loads it (the store is the session's), so each test either
loads a list of its own name or sets the state of the shared list it depends on.
"""

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from structlog.testing import capture_logs

from audit.schema import audit_entries
from consent import list_reading
from consent import suppression as loading
from consent.crypto import KeyRing
from consent.customers import CustomerProfile, upsert_customer
from consent.errors import StoreUnavailableError
from consent.explain import explain_contact
from consent.gate import CheckCommand, Gate
from consent.store import suppression as swapping
from consent.store.database import transaction
from consent.store.schema import suppression_entries, suppression_lists
from consent.store.suppression import ListEntry, add_entries
from policy.engine import PolicyEngine
from policy.vocabulary import Channel, PreferenceStatus, Purpose, Source
from tests.concurrency import run_together
from tests.conftest import ACTOR, CustomerFactory, SuppressionLists, bearer

PROBLEM = "application/problem+json"
CSV = {"Content-Type": "text/csv"}
NDJSON = {"Content-Type": "application/x-ndjson"}
TODAY = datetime.now(UTC).date()
NOON_NEW_YORK = datetime(2026, 11, 26, 17, tzinfo=UTC)
LISTED = "+12125550100"
NOT_LISTED = "+12125550101"


def a_list() -> str:
    return f"test_{uuid.uuid4().hex[:12]}"


def send_list(
    client: TestClient,
    headers: dict[str, str],
    name: str,
    body: str = "",
    *,
    content_type: dict[str, str] = CSV,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    return client.put(
        f"/v1/suppression-lists/{name}",
        content=body.encode(),
        params={"source_date": TODAY.isoformat()} if params is None else params,
        headers={**headers, **content_type},
    )


def put_list(
    client: TestClient,
    headers: dict[str, str],
    name: str,
    body: str,
    *,
    content_type: dict[str, str] = CSV,
    source_date: date = TODAY,
    region: str | None = None,
) -> dict:
    params = {"source_date": source_date.isoformat()} | ({"region": region} if region else {})
    response = send_list(client, headers, name, body, content_type=content_type, params=params)
    assert response.status_code in (200, 201), response.text
    return response.json()


def stored_hashes(engine: Engine, name: str) -> set[bytes]:
    with transaction(engine) as conn:
        found = conn.execute(
            select(suppression_entries.c.lookup_hash).where(suppression_entries.c.list_name == name)
        )
        return {bytes(row.lookup_hash) for row in found}


# --- loading over HTTP ---------------------------------------------------------------------


def test_admin_loads_a_csv_list_of_phones_and_emails(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = "phone,email\n+1 212 555 0100,\n,Ana@Example.com\n"
    response = send_list(client, admin, a_list(), body)
    assert response.status_code == 201
    loaded = response.json()
    assert (loaded["entry_count"], loaded["entries_read"], loaded["rejected_count"]) == (2, 2, 0)
    assert loaded["source_date"] == TODAY.isoformat()
    assert len(loaded["content_hash"]) == 64


def test_entries_are_stored_only_as_the_contact_points_keyed_hash(
    client: TestClient, admin: dict[str, str], engine: Engine, keyring: KeyRing
) -> None:
    name = a_list()
    put_list(client, admin, name, "phone\n(212) 555-0100\n", region="US")
    assert stored_hashes(engine, name) == {keyring.lookup_hash("phone", "+12125550100")}


def test_loading_again_replaces_the_list_and_answers_200(
    client: TestClient, admin: dict[str, str], engine: Engine, keyring: KeyRing
) -> None:
    name = a_list()
    put_list(client, admin, name, f"{LISTED}\n")
    again = send_list(client, admin, name, f"{NOT_LISTED}\n")
    assert again.status_code == 200
    assert stored_hashes(engine, name) == {keyring.lookup_hash("phone", NOT_LISTED)}


def test_ndjson_lists_load_one_object_a_line(
    client: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    name = a_list()
    lines = [{"phone": LISTED, "listed_on": "2026-11-20"}, {"email": "ana@example.com"}]
    body = "".join(json.dumps(line) + "\n" for line in lines)
    assert put_list(client, admin, name, body, content_type=NDJSON)["entry_count"] == 2
    with transaction(engine) as conn:
        listed_on = conn.execute(
            select(suppression_entries.c.listed_on).where(
                suppression_entries.c.list_name == name, suppression_entries.c.kind == "phone"
            )
        ).scalar_one()
    assert listed_on == date(2026, 11, 20)


def test_the_registry_flat_file_is_read_in_its_own_country(
    client: TestClient, admin: dict[str, str], engine: Engine, keyring: KeyRing
) -> None:
    """The registry's own lines: ten digits, or area code and number; national_dnc is US."""
    put_list(client, admin, "national_dnc", "2125550100\n212,5550101\n")
    assert stored_hashes(engine, "national_dnc") == {
        keyring.lookup_hash("phone", LISTED),
        keyring.lookup_hash("phone", NOT_LISTED),
    }


def test_the_canadian_registry_is_read_in_canada(
    client: TestClient, admin: dict[str, str], engine: Engine, keyring: KeyRing
) -> None:
    """Canada's National DNCL: ten-digit lines, read without a region given."""
    put_list(client, admin, "ca_national_dncl", "4165550123\n")
    assert stored_hashes(engine, "ca_national_dncl") == {
        keyring.lookup_hash("phone", "+14165550123")
    }


def test_an_identifier_given_twice_is_stored_once(
    client: TestClient, admin: dict[str, str]
) -> None:
    loaded = put_list(client, admin, a_list(), f"{LISTED}\n+1 (212) 555-0100\n")
    assert (loaded["entries_read"], loaded["entry_count"]) == (2, 1)


def test_malformed_lines_are_reported_by_number_and_the_good_ones_load(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = "\n".join(
        [LISTED, "not a number", "ana@example.com", "eve@", "02125550100", f"{NOT_LISTED},31/12"]
    )
    loaded = put_list(client, admin, a_list(), body)
    assert loaded["entry_count"] == 2
    assert loaded["rejected_count"] == 4
    assert [r["line"] for r in loaded["rejected"]] == [2, 4, 5, 6]
    reasons = [r["reason"] for r in loaded["rejected"]]
    assert reasons[0] == "phone: not a phone number"
    assert reasons[1] == "email: not an email address"
    assert reasons[2] == "a national number needs a region (?region=US) or a + prefix"
    assert reasons[3] == "listed_on is not a date (YYYY-MM-DD)"


def test_rejections_never_echo_the_line(client: TestClient, admin: dict[str, str]) -> None:
    loaded = put_list(client, admin, a_list(), f"{LISTED}\n+1 212 555 01\n")
    assert "555" not in json.dumps(loaded["rejected"])


def test_bad_ndjson_lines_are_reported_by_number(client: TestClient, admin: dict[str, str]) -> None:
    body = '{"phone": "+12125550100"}\n[1]\n{"fax": "x"}\n{"phone": "+1", "email": "a@b.es"}\n{'
    loaded = put_list(client, admin, a_list(), body, content_type=NDJSON)
    assert loaded["entry_count"] == 1
    assert [r["line"] for r in loaded["rejected"]] == [2, 3, 4, 5]


def test_a_body_with_no_readable_line_is_refused_and_the_copy_in_force_stays(
    client: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    name = a_list()
    put_list(client, admin, name, f"{LISTED}\n")
    response = send_list(client, admin, name, "garbage\nmore garbage\n")
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "urn:consent-gate:problem:suppression-list-unreadable"
    assert [r["line"] for r in problem["rejected"]] == [1, 2]
    assert len(stored_hashes(engine, name)) == 1


def test_an_empty_body_loads_an_empty_list(client: TestClient, admin: dict[str, str]) -> None:
    assert put_list(client, admin, a_list(), "")["entry_count"] == 0


def test_a_line_longer_than_any_identifier_is_rejected_not_buffered(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = f"{LISTED}\n{'9' * 100_000}\n{NOT_LISTED}\n"
    loaded = put_list(client, admin, a_list(), body)
    assert loaded["entry_count"] == 2
    assert loaded["rejected"] == [{"line": 2, "reason": "longer than 4096 bytes"}]


def test_a_source_date_is_required(client: TestClient, admin: dict[str, str]) -> None:
    response = send_list(client, admin, a_list(), params={})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.source_date"


def test_a_source_date_in_the_future_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    in_two_days = {"source_date": (TODAY + timedelta(days=2)).isoformat()}
    response = send_list(client, admin, a_list(), f"{LISTED}\n", params=in_two_days)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "query.source_date", "message": "is in the future", "type": "value_error"}
    ]


def test_a_list_must_be_csv_or_ndjson(client: TestClient, admin: dict[str, str]) -> None:
    json_body = {"Content-Type": "application/json"}
    response = send_list(client, admin, a_list(), "{}", content_type=json_body)
    assert response.status_code == 415
    assert response.json()["type"] == "urn:consent-gate:problem:unsupported-media-type"


@pytest.mark.parametrize("name", ["National_DNC", "x", "dnc-list", "9lives", "a" * 65])
def test_a_list_name_is_one_lower_case_word(
    client: TestClient, admin: dict[str, str], name: str
) -> None:
    response = send_list(client, admin, name)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


def test_an_unknown_region_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    params = {"source_date": TODAY.isoformat(), "region": "XX"}
    response = send_list(client, admin, a_list(), params=params)
    assert response.status_code == 422


@pytest.mark.parametrize("role", ["crm_service", "compliance_officer", "customer"])
def test_only_an_admin_may_load_a_list(
    client: TestClient, api_keys: dict[str, str], role: str
) -> None:
    response = send_list(client, bearer(api_keys[role]), a_list())
    assert response.status_code == 403


def test_loading_is_audited_with_name_date_count_hash_and_actor(
    client: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    name = a_list()
    loaded = put_list(client, admin, name, f"{LISTED}\nbad\n", source_date=date(2026, 11, 1))
    with transaction(engine) as conn:
        row = conn.execute(
            select(audit_entries).where(audit_entries.c.seq == loaded["audit_entry_id"])
        ).one()
    document = json.loads(row.document)
    assert (row.action, row.subject, row.actor_name) == (
        "suppression_list.loaded",
        f"suppression_list:{name}",
        "test-admin",
    )
    assert document["payload"] == {
        "list": name,
        "source_date": "2026-11-01",
        "entry_count": 1,
        "content_hash": loaded["content_hash"],
        "format": "csv",
        "region": None,
        "rejected_lines": 1,
    }


def test_the_content_hash_depends_on_the_entries_not_their_order(
    client: TestClient, admin: dict[str, str]
) -> None:
    first = put_list(client, admin, a_list(), f"{LISTED}\n{NOT_LISTED}\n")
    second = put_list(client, admin, a_list(), f"{NOT_LISTED}\n{LISTED}\n")
    third = put_list(client, admin, a_list(), f"{LISTED}\n")
    assert first["content_hash"] == second["content_hash"] != third["content_hash"]


def test_no_log_line_carries_a_listed_identifier(client: TestClient, admin: dict[str, str]) -> None:
    with capture_logs() as events:
        put_list(client, admin, a_list(), f"{LISTED}\nmaria@example.es\n+1 212 555 01\n")
    text = json.dumps(events)
    for secret in (LISTED, "maria@example.es", "555"):
        assert secret not in text


def test_a_compliance_officer_sees_every_list_and_whether_it_is_stale(
    client: TestClient, admin: dict[str, str], api_keys: dict[str, str]
) -> None:
    put_list(client, admin, "national_dnc", f"{LISTED}\n", source_date=date(2026, 1, 2))
    response = client.get("/v1/suppression-lists", headers=bearer(api_keys["compliance_officer"]))
    assert response.status_code == 200
    (national,) = (item for item in response.json() if item["list"] == "national_dnc")
    assert national["source_date"] == "2026-01-02"
    assert national["entry_count"] == 1
    assert national["max_age"] == "P31D"
    assert national["stale_from"] == "2026-02-03T00:00:00Z"
    assert national["stale"] is (datetime.now(UTC) >= datetime(2026, 2, 3, tzinfo=UTC))


def test_a_list_no_rule_consults_is_never_stale(client: TestClient, admin: dict[str, str]) -> None:
    name = a_list()
    put_list(client, admin, name, "", source_date=date(2001, 1, 1))
    (item,) = (
        i for i in client.get("/v1/suppression-lists", headers=admin).json() if i["list"] == name
    )
    assert (item["max_age"], item["stale_from"], item["stale"]) == (None, None, False)


def test_a_crm_service_may_not_read_the_lists(client: TestClient, api_keys: dict[str, str]) -> None:
    response = client.get("/v1/suppression-lists", headers=bearer(api_keys["crm_service"]))
    assert response.status_code == 403


def test_an_admin_removes_a_list_and_the_removal_is_audited(
    client: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    name = a_list()
    put_list(client, admin, name, f"{LISTED}\n")
    removed = client.delete(f"/v1/suppression-lists/{name}", headers=admin)
    assert removed.status_code == 200
    with transaction(engine) as conn:
        assert (
            conn.execute(select(suppression_lists).where(suppression_lists.c.name == name)).first()
            is None
        )
        action = conn.execute(
            select(audit_entries.c.action).where(
                audit_entries.c.seq == removed.json()["audit_entry_id"]
            )
        ).scalar_one()
    assert action == "suppression_list.removed"
    assert stored_hashes(engine, name) == set()


def test_removing_a_list_that_is_not_there_is_404(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.delete(f"/v1/suppression-lists/{a_list()}", headers=admin)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


# --- the gate -------------------------------------------------------------------------------


def call(customer_id: str, **fields: object) -> CheckCommand:
    """A manual marketing call at noon in New York (18:00 in Madrid), so that the TCPA's
    written consent for autodialed calls is not in play."""
    values: dict[str, object] = {
        "customer_id": customer_id,
        "channel": Channel.PHONE,
        "purpose": Purpose.MARKETING,
        "source": Source.TELEMARKETING,
        "idempotency_key": uuid.uuid4().hex,
        "send_at": NOON_NEW_YORK,
        "automated": False,
    }
    values.update(fields)
    return CheckCommand(**values)  # type: ignore[arg-type]


def rules(gate: Gate, command: CheckCommand) -> list[str]:
    return [r.rule for r in gate.check(command, ACTOR, NOON_NEW_YORK).answer.reasons]


@pytest.fixture
def new_yorker(customers: CustomerFactory) -> str:
    """A customer in New York with two numbers, who opted in to calls."""
    customer_id = customers.create(("US-NY",), time_zone="America/New_York", phone=LISTED)
    customers.prefer(customer_id, "phone", status=PreferenceStatus.OPTED_IN)
    return customer_id


def on_the_registry(suppression: SuppressionLists, *phones: str) -> None:
    suppression.load("national_dnc", NOON_NEW_YORK.date(), phones=phones)


def test_a_call_to_a_number_on_the_national_registry_is_denied(
    gate: Gate, new_yorker: str, suppression: SuppressionLists
) -> None:
    on_the_registry(suppression, LISTED)
    assert rules(gate, call(new_yorker)) == ["tcpa.national_dnc"]


def test_a_text_to_a_number_on_the_national_registry_is_denied(
    gate: Gate, new_yorker: str, suppression: SuppressionLists, customers: CustomerFactory
) -> None:
    customers.prefer(new_yorker, "sms", status=PreferenceStatus.OPTED_IN)
    on_the_registry(suppression, LISTED)
    assert rules(gate, call(new_yorker, channel=Channel.SMS)) == ["tcpa.national_dnc"]


def test_a_number_not_on_the_registry_is_allowed(
    gate: Gate, new_yorker: str, suppression: SuppressionLists
) -> None:
    on_the_registry(suppression, NOT_LISTED)
    assert rules(gate, call(new_yorker)) == []


def test_the_destination_is_what_is_looked_up_when_one_is_given(
    gate: Gate, customers: CustomerFactory, suppression: SuppressionLists
) -> None:
    customer_id = customers.create(("US-NY",), time_zone="America/New_York", phone=LISTED)
    customers.prefer(customer_id, "phone", status=PreferenceStatus.OPTED_IN)
    on_the_registry(suppression, NOT_LISTED)
    assert rules(gate, call(customer_id, destination="+1 212 555 0100")) == []
    on_the_registry(suppression, LISTED)
    assert rules(gate, call(customer_id, destination="(212) 555-0100")) == ["tcpa.national_dnc"]


def test_without_a_destination_any_listed_number_of_the_customer_denies(
    gate: Gate, engine: Engine, keyring: KeyRing, suppression: SuppressionLists
) -> None:
    customer_id = f"C-{uuid.uuid4().hex[:12]}"
    profile = CustomerProfile(
        jurisdictions=frozenset({"US-NY"}),
        time_zone="America/New_York",
        contact_points={"phone": (NOT_LISTED, LISTED)},
    )
    with transaction(engine) as conn:
        upsert_customer(conn, keyring, customer_id, profile, ACTOR, NOON_NEW_YORK)
    CustomerFactory(engine, keyring).prefer(customer_id, "phone", status=PreferenceStatus.OPTED_IN)
    on_the_registry(suppression, LISTED)
    assert rules(gate, call(customer_id)) == ["tcpa.national_dnc"]
    assert rules(gate, call(customer_id, destination=NOT_LISTED)) == []


def test_a_call_to_a_customer_with_no_number_on_record_is_denied(
    gate: Gate, customers: CustomerFactory, suppression: SuppressionLists
) -> None:
    """The number the CRM would dial cannot be looked up: it was allowed once a copy was
    loaded, though it may be on the registry. The copy is still judged beside it."""
    customer_id = customers.create(("US-NY",), time_zone="America/New_York", phone=None)
    customers.prefer(customer_id, "phone", status=PreferenceStatus.OPTED_IN)
    suppression.remove("national_dnc")
    missing = ["gate.contact_point_missing", "tcpa.national_dnc.copy_missing"]
    assert rules(gate, call(customer_id)) == missing
    on_the_registry(suppression, LISTED)
    assert rules(gate, call(customer_id)) == ["gate.contact_point_missing"]


def test_no_registry_copy_loaded_denies_with_its_own_reason(
    gate: Gate, new_yorker: str, suppression: SuppressionLists
) -> None:
    suppression.remove("national_dnc")
    assert rules(gate, call(new_yorker)) == ["tcpa.national_dnc.copy_missing"]


def test_a_registry_copy_older_than_31_days_denies_until_refreshed(
    gate: Gate, new_yorker: str, suppression: SuppressionLists
) -> None:
    copy_date = NOON_NEW_YORK.date() - timedelta(days=31)
    stale_from = datetime(2026, 11, 27, tzinfo=UTC)  # copy date + 32 days, 00:00 UTC
    suppression.load("national_dnc", copy_date)
    before, at = call(new_yorker), call(new_yorker, send_at=stale_from)
    assert rules(gate, replace(before, send_at=stale_from - timedelta(seconds=1))) == []
    assert rules(gate, at) == ["tcpa.national_dnc.copy_stale"]
    suppression.load("national_dnc", stale_from.date())
    assert rules(gate, replace(at, idempotency_key=uuid.uuid4().hex)) == []


def test_written_permission_to_call_exempts_a_registered_number(
    gate: Gate, new_yorker: str, suppression: SuppressionLists, customers: CustomerFactory
) -> None:
    customers.written_marketing(new_yorker)
    on_the_registry(suppression, LISTED)
    assert rules(gate, call(new_yorker, automated=True)) == []


def test_our_own_do_not_call_list_denies_whatever_the_relationship(
    gate: Gate, new_yorker: str, suppression: SuppressionLists, customers: CustomerFactory
) -> None:
    customers.written_marketing(new_yorker)
    on_the_registry(suppression, NOT_LISTED)
    suppression.load("internal_dnc", NOON_NEW_YORK.date(), phones=(LISTED,))
    try:
        assert rules(gate, call(new_yorker)) == ["tcpa.internal_dnc"]
    finally:
        suppression.remove("internal_dnc")


def test_service_calls_are_not_checked_against_the_lists(
    gate: Gate, new_yorker: str, suppression: SuppressionLists
) -> None:
    suppression.remove("national_dnc")
    assert rules(gate, call(new_yorker, purpose=Purpose.SERVICE)) == []


def test_marketing_to_someone_on_lista_robinson_is_denied_unless_they_consented(
    gate: Gate, customers: CustomerFactory, suppression: SuppressionLists
) -> None:
    customer_id = customers.create(("ES",))
    customers.prefer(customer_id, "phone", status=PreferenceStatus.OPTED_IN)
    suppression.load("lista_robinson", NOON_NEW_YORK.date(), phones=("600 000 001",))
    assert "lopdgdd.art23.lista_robinson" in rules(gate, call(customer_id))
    customers.opted_in_marketing(customer_id, "phone")
    assert rules(gate, call(customer_id)) == []


def test_policy_explain_sees_the_lists_as_the_gate_does(
    engine: Engine, policy: PolicyEngine, new_yorker: str, suppression: SuppressionLists
) -> None:
    on_the_registry(suppression, LISTED)
    explained = explain_contact(
        engine, policy, new_yorker,
        channel=Channel.PHONE, purpose=Purpose.MARKETING, source=Source.TELEMARKETING,
        at=NOON_NEW_YORK,
    )  # fmt: skip
    (national,) = (item for item in explained.rules if item.rule.id == "tcpa.national_dnc")
    assert national.reason is not None
    assert national.reason.rule == "tcpa.national_dnc"


# --- loading beside the copy in force ---------------------------------------------------------


def test_while_a_new_copy_is_written_the_gate_decides_on_the_one_in_force(
    gate: Gate, new_yorker: str, suppression: SuppressionLists, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy is written a chunk a transaction; a check between two chunks, or after the last
    and before the swap, sees the whole old copy, never part of the new one."""
    on_the_registry(suppression, LISTED)
    seen: list[list[str]] = []
    written_in_chunks = list_reading.in_hash_order

    def check_between_chunks(spool: Any) -> Iterator[Any]:
        for number, chunk in enumerate(written_in_chunks(spool)):
            if number:  # the chunks before this one have committed
                seen.append(rules(gate, call(new_yorker)))
            yield chunk
        seen.append(rules(gate, call(new_yorker)))  # every chunk in, not yet swapped

    monkeypatch.setattr(list_reading, "INSERT_CHUNK", 1)
    monkeypatch.setattr(list_reading, "in_hash_order", check_between_chunks)
    on_the_registry(suppression, NOT_LISTED, "+12125550102", "+12125550103")

    assert seen == [["tcpa.national_dnc"]] * 3
    assert rules(gate, call(new_yorker)) == []  # swapped in


def test_a_load_that_fails_leaves_the_list_as_it_was_and_nothing_of_itself(
    gate: Gate,
    new_yorker: str,
    suppression: SuppressionLists,
    engine: Engine,
    keyring: KeyRing,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    on_the_registry(suppression, LISTED)

    def store_goes_away(*_: object) -> tuple[int, str]:
        raise StoreUnavailableError("the consent store is unavailable")

    monkeypatch.setattr(loading.rows, "count_and_hash", store_goes_away)
    with pytest.raises(StoreUnavailableError):
        on_the_registry(suppression, NOT_LISTED)

    assert stored_hashes(engine, "national_dnc") == {keyring.lookup_hash("phone", LISTED)}
    assert rules(gate, call(new_yorker)) == ["tcpa.national_dnc"]


def _copy_started(ago: timedelta) -> int:
    """A copy id as a load started ``ago`` would have had (milliseconds first)."""
    return loading.new_copy_id() - (int(ago / timedelta(milliseconds=1)) << 16)


def test_a_load_deletes_what_a_load_that_died_left_but_not_a_running_ones(
    suppression: SuppressionLists, engine: Engine, keyring: KeyRing
) -> None:
    name = a_list()
    suppression.load(name, TODAY, phones=(LISTED,))
    died, running = _copy_started(timedelta(days=1)), _copy_started(timedelta(minutes=1))
    with transaction(engine) as conn:
        for copy_id in (died, running):
            add_entries(conn, name, copy_id, [ListEntry("phone", uuid.uuid4().bytes * 2)])

    suppression.load(name, TODAY, phones=(NOT_LISTED,))

    with transaction(engine) as conn:
        copies = conn.execute(
            select(suppression_entries.c.copy_id, suppression_entries.c.lookup_hash).where(
                suppression_entries.c.list_name == name
            )
        ).all()
        current = conn.execute(
            select(suppression_lists.c.copy_id).where(suppression_lists.c.name == name)
        ).scalar_one()
    assert {copy_id for copy_id, _ in copies} == {current, running}
    assert {bytes(h) for copy_id, h in copies if copy_id == current} == {
        keyring.lookup_hash("phone", NOT_LISTED)
    }


def test_sorted_in_runs_an_identifier_given_twice_keeps_its_first_lines_date(
    engine: Engine, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries are written in hash order, sorted a run at a time and merged: the merge must
    keep file order among equal hashes, across runs, as the load did without sorting."""
    monkeypatch.setattr(list_reading, "_RUN_RECORDS", 2)  # three runs for five lines
    monkeypatch.setattr(list_reading, "INSERT_CHUNK", 2)
    lines = [
        {"phone": LISTED, "listed_on": "2026-01-01"},
        {"phone": "+12125550102"},
        {"phone": NOT_LISTED, "listed_on": "2026-02-02"},
        {"phone": "+12125550103"},
        {"phone": LISTED, "listed_on": "2026-03-03"},  # again, in another run: ignored
    ]
    body = [json.dumps(line).encode() + b"\n" for line in lines]
    read = list_reading.read_entries(body, list_reading.ListFormat.NDJSON, keyring, "US")
    name = a_list()
    try:
        loaded = loading.replace_list(
            engine, name, TODAY, read, ACTOR, datetime.now(UTC),
            list_format=list_reading.ListFormat.NDJSON, region="US",
        )  # fmt: skip
    finally:
        read.close()
    assert loaded.copy.entry_count == 4
    with transaction(engine) as conn:
        dates = dict(
            conn.execute(
                select(suppression_entries.c.lookup_hash, suppression_entries.c.listed_on).where(
                    suppression_entries.c.list_name == name
                )
            ).all()
        )
    assert dates[keyring.lookup_hash("phone", LISTED)] == date(2026, 1, 1)
    assert dates[keyring.lookup_hash("phone", NOT_LISTED)] == date(2026, 2, 2)


def test_loads_of_one_list_at_once_leave_one_whole_copy_and_no_other(
    suppression: SuppressionLists, engine: Engine, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four loads race, their chunks interleaved: the last swap wins, and each load deletes
    the copy it replaced, so one whole copy is left, with its own count."""
    monkeypatch.setattr(list_reading, "INSERT_CHUNK", 3)
    monkeypatch.setattr(loading, "DELETE_CHUNK", 3)
    name = a_list()
    suppression.load(name, TODAY, phones=(LISTED,))
    copies = {
        n: tuple(f"+1212555{n}{i:03d}" for i in range(20)) for n in range(4)
    }  # four disjoint copies of 20 numbers
    starting = iter(range(4))

    def load_one() -> int:
        n = next(starting)
        suppression.load(name, TODAY, phones=copies[n])
        return n

    run_together(4, load_one)

    with transaction(engine) as conn:
        stored = conn.execute(
            select(suppression_entries.c.copy_id, suppression_entries.c.lookup_hash).where(
                suppression_entries.c.list_name == name
            )
        ).all()
        copy_id, count = conn.execute(
            select(suppression_lists.c.copy_id, suppression_lists.c.entry_count).where(
                suppression_lists.c.name == name
            )
        ).one()
    assert {stored_copy for stored_copy, _ in stored} == {copy_id}
    hashes = {bytes(h) for _, h in stored}
    winners = [
        n for n, phones in copies.items()
        if hashes == {keyring.lookup_hash("phone", phone) for phone in phones}
    ]  # fmt: skip
    assert len(winners) == 1
    assert count == 20


def test_first_loads_of_a_new_list_at_once_create_it_once(
    suppression: SuppressionLists, engine: Engine, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each swap finds no list to lock and holds its insert open a while (PostgreSQL: the
    others' inserts meet it); one load creates the list, the others replace its copy."""
    real_append = loading.append

    def slow_append(conn: Any, entry: Any) -> int:
        time.sleep(0.05)  # inside the swap's transaction, after its insert
        return real_append(conn, entry)

    monkeypatch.setattr(loading, "append", slow_append)
    name = a_list()
    copies = {n: tuple(f"+1212555{n}{i:03d}" for i in range(20)) for n in range(4)}
    starting = iter(range(4))

    def load_one() -> tuple[int, bool]:
        n = next(starting)
        return n, suppression.load(name, TODAY, phones=copies[n]).created

    results = run_together(4, load_one)

    assert sorted(created for _, created in results) == [False, False, False, True]
    with transaction(engine) as conn:
        copy_id, count = conn.execute(
            select(suppression_lists.c.copy_id, suppression_lists.c.entry_count).where(
                suppression_lists.c.name == name
            )
        ).one()
        stored = conn.execute(
            select(suppression_entries.c.copy_id, suppression_entries.c.lookup_hash).where(
                suppression_entries.c.list_name == name
            )
        ).all()
        loads = conn.execute(
            select(audit_entries.c.seq).where(
                audit_entries.c.action == "suppression_list.loaded",
                audit_entries.c.subject.contains(name),
            )
        ).all()
    assert count == 20
    assert {stored_copy for stored_copy, _ in stored} == {copy_id}
    hashes = {bytes(h) for _, h in stored}
    assert any(
        hashes == {keyring.lookup_hash("phone", phone) for phone in phones}
        for phones in copies.values()
    )
    assert len(loads) == 4


def test_a_list_removed_each_time_another_load_creates_it_fails_the_load(
    suppression: SuppressionLists, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The swap tries a few times, then gives up with a 503, leaving none of its copy."""
    monkeypatch.setattr(swapping, "_created", lambda *_: False)  # always beaten, then gone
    name = a_list()
    with pytest.raises(StoreUnavailableError):
        suppression.load(name, TODAY, phones=(LISTED,))
    with transaction(engine) as conn:
        left = conn.execute(
            select(suppression_entries.c.copy_id).where(suppression_entries.c.list_name == name)
        ).all()
        listed = conn.execute(
            select(suppression_lists.c.name).where(suppression_lists.c.name == name)
        ).all()
    assert left == []
    assert listed == []


def test_a_dead_loads_copy_that_cannot_be_deleted_does_not_hold_up_the_load(
    suppression: SuppressionLists, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleting is housekeeping: when it fails, the load goes on and says so in the log."""
    name = a_list()
    suppression.load(name, TODAY, phones=(LISTED,))
    with transaction(engine) as conn:
        add_entries(conn, name, _copy_started(timedelta(days=1)), [ListEntry("phone", b"d" * 32)])

    def store_refuses(*_: object) -> bytes | None:
        raise StoreUnavailableError("the consent store is unavailable")

    monkeypatch.setattr(loading.rows, "delete_some", store_refuses)
    with capture_logs() as logs:
        loaded = suppression.load(name, TODAY, phones=(NOT_LISTED,))
    assert loaded.copy.entry_count == 1
    assert {"suppression.copy_not_deleted"} == {entry["event"] for entry in logs}


def test_an_allow_holds_until_the_registry_copy_goes_stale(
    gate: Gate, new_yorker: str, suppression: SuppressionLists
) -> None:
    """It held for 24 h, past the last instant the copy could be consulted."""
    copy_date = NOON_NEW_YORK.date() - timedelta(days=31)
    suppression.load("national_dnc", copy_date)
    evening = datetime(2026, 11, 26, 23, tzinfo=UTC)  # 18:00 in New York, the copy's last day
    answer = gate.check(call(new_yorker, send_at=evening), ACTOR, NOON_NEW_YORK).answer
    assert answer.reasons == ()
    assert answer.valid_until == datetime(2026, 11, 27, tzinfo=UTC)  # copy date + 32 days
