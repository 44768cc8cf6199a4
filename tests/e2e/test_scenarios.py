"""The scenario table through the real HTTP API: `consent serve` on a free port, both stores.

Each scenario creates its customer, records what they told us, makes its check and asserts
the decision and the rule ids the reasons must include (an allow has no reasons at all).
"""

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.e2e.scenarios import NOW, SCENARIOS, Scenario, listed
from tests.e2e.server import running_server, store_env

pytestmark = pytest.mark.e2e

LISTS = ("national_dnc", "internal_dnc", "lista_robinson", "ca_national_dncl")


@dataclass
class Service:
    client: httpx.Client
    store: str


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, master_key_b64: str
) -> Iterator[Service]:
    with running_server(store_env(request, tmp_path_factory, master_key_b64)) as server:
        admin = {"Authorization": f"Bearer {server.key('admin', 'scenario-admin')}"}
        with httpx.Client(base_url=server.base_url, headers=admin, timeout=30) as client:
            for name in LISTS:
                _load_list(client, name, listed(name))
            yield Service(client, request.param)


def _load_list(client: httpx.Client, name: str, identifiers: list[str]) -> None:
    body = "\n".join(["phone", *identifiers]) + "\n"
    answer = client.put(
        f"/v1/suppression-lists/{name}",
        params={"source_date": NOW.date().isoformat()},
        content=body.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert answer.status_code in (200, 201), answer.text
    assert answer.json()["rejected_count"] == 0, answer.text


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _prepare(client: httpx.Client, customer_id: str, scenario: Scenario) -> None:
    if scenario.customer is None:
        return
    answer = client.put(f"/v1/customers/{customer_id}", json=scenario.customer)
    assert answer.status_code in (200, 201), answer.text
    for method, path, body in scenario.setup:
        answer = client.request(method, f"/v1/customers/{customer_id}{path}", json=body)
        assert answer.status_code in (200, 201), f"{method} {path}: {answer.text}"


def _check(client: httpx.Client, customer_id: str, scenario: Scenario) -> dict[str, object]:
    answer = client.post(
        "/v1/checks",
        json={"customer_id": customer_id, **scenario.check},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status_code == 200, answer.text
    decided: dict[str, object] = answer.json()
    return decided


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[_slug(s.name) for s in SCENARIOS])
def test_scenario(service: Service, scenario: Scenario) -> None:
    customer_id = f"{_slug(scenario.name)[:40]}-{uuid.uuid4().hex[:6]}"
    _prepare(service.client, customer_id, scenario)
    for n in range(scenario.earlier_checks):
        earlier = _check(service.client, customer_id, scenario)
        assert earlier["decision"] == "allow", (n, earlier["reasons"])
    answer = _check(service.client, customer_id, scenario)
    rules = [reason["rule"] for reason in answer["reasons"]]  # type: ignore[attr-defined]
    assert answer["decision"] == scenario.decision, rules
    if scenario.decision == "allow":
        assert rules == []
    for rule in scenario.rules:
        assert rule in rules, f"{rule} not among {rules}"
    if scenario.earliest_allowed:
        assert answer["earliest_allowed_at"] is not None, rules


def test_the_table_covers_every_pack_with_at_least_40_scenarios() -> None:
    assert len(SCENARIOS) >= 40
    prefixes = {rule.split(".")[0] for scenario in SCENARIOS for rule in scenario.rules}
    packs = {"tcpa", "us_fl", "us_md", "us_ok", "canspam", "glba", "fcra", "lssi", "lgtel",
             "lopdgdd", "eprivacy", "gdpr", "casl", "customer", "gate"}  # fmt: skip
    assert packs <= prefixes, packs - prefixes
    assert {s.decision for s in SCENARIOS} == {"allow", "deny"}
