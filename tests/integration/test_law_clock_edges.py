"""The packs' time boundaries through the API, with the service's clock frozen (freezegun).

``send_at`` is left out, so it is the frozen "now": these tests show that the law's edges
hold when the clock moves, not only when a caller names a time. One second before, at and
after each edge: the national DNC copy's 31 days, Florida's rolling 24 hours, the GLBA
30-day window, and LGTel's start at midnight in Madrid.
"""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from freezegun import freeze_time

from consent.suppression import LISTA_ROBINSON, NATIONAL_DNC
from tests.conftest import SuppressionLists

SECOND = timedelta(seconds=1)


def customer(client: TestClient, crm: dict[str, str], profile: dict[str, Any],
             *changes: tuple[str, dict[str, Any]]) -> str:  # fmt: skip
    customer_id = f"C-{uuid.uuid4().hex[:10]}"
    assert client.put(f"/v1/customers/{customer_id}", json=profile, headers=crm).status_code == 201
    for path, body in changes:
        answer = client.post(f"/v1/customers/{customer_id}{path}", json=body, headers=crm)
        assert answer.status_code == 201, answer.text
    return customer_id


def rules_at(client: TestClient, crm: dict[str, str], at: datetime, customer_id: str,
             **body: Any) -> list[str]:  # fmt: skip
    payload = {"customer_id": customer_id, "purpose": "marketing", "source": "telemarketing"}
    with freeze_time(at, real_asyncio=True):
        answer = client.post(
            "/v1/checks",
            json={**payload, **body},
            headers={**crm, "Idempotency-Key": uuid.uuid4().hex},
        )
    assert answer.status_code == 200, answer.text
    assert "send_at" not in body
    return [reason["rule"] for reason in answer.json()["reasons"]]


# 64.1200(c)(2)(i)(D): a copy obtained no more than 31 days before the call. A copy of
# 1 March serves calls through 1 April, and is stale from 2 April 00:00 UTC.
COPY_OF_1_MARCH = date(2026, 3, 1)
STALE_FROM = datetime(2026, 4, 2, tzinfo=UTC)


def test_a_national_dnc_copy_is_stale_32_days_after_its_date(
    client: TestClient, crm: dict[str, str], suppression: SuppressionLists
) -> None:
    suppression.load(NATIONAL_DNC, COPY_OF_1_MARCH)
    # 04:00 UTC is still the evening before in Dallas: calling hours are not the subject
    # here, so the call is manual, and the customer unconsented: only the copy matters.
    texan = customer(client, crm, {"jurisdictions": ["US-TX"], "time_zone": "America/Chicago",
                                   "contact_points": {"phone": ["+12145550177"]}})  # fmt: skip
    stale = "tcpa.national_dnc.copy_stale"
    before = rules_at(client, crm, STALE_FROM - SECOND, texan, channel="phone", automated=False)
    assert stale not in before
    assert stale in rules_at(client, crm, STALE_FROM, texan, channel="phone", automated=False)
    assert stale in rules_at(client, crm, STALE_FROM + SECOND, texan, channel="phone",
                             automated=False)  # fmt: skip


NOON_IN_MIAMI = datetime(2026, 11, 24, 17, tzinfo=UTC)  # EST: 12:00


def test_florida_allows_a_fourth_call_24_hours_after_the_first(
    client: TestClient, crm: dict[str, str], suppression: SuppressionLists
) -> None:
    suppression.load(NATIONAL_DNC, NOON_IN_MIAMI.date())
    written = {"purpose": "marketing", "status": "granted", "form": "written",
               "captured_at": "2026-01-01T00:00:00Z"}  # fmt: skip
    floridian = customer(
        client,
        crm,
        {"jurisdictions": ["US-FL"], "contact_points": {"phone": ["+13055550177"]}},
        ("/consents", written),
    )
    for minutes in (0, 10, 20):
        at = NOON_IN_MIAMI + timedelta(minutes=minutes)
        assert rules_at(client, crm, at, floridian, channel="phone") == []
    next_day = NOON_IN_MIAMI + timedelta(hours=24)
    cap = "us_fl.calls_per_24h"
    assert cap in rules_at(client, crm, next_day - SECOND, floridian, channel="phone")
    assert rules_at(client, crm, next_day, floridian, channel="phone") == []
    # That call took the freed slot; the next frees when the second of the day before does.
    assert cap in rules_at(client, crm, next_day + SECOND, floridian, channel="phone")


NOTICE_MAILED = datetime(2026, 10, 1, 15, tzinfo=UTC)


def test_glba_sharing_opens_30_days_after_the_notice_was_mailed(
    client: TestClient, crm: dict[str, str]
) -> None:
    notice = {"kind": "glba_initial", "delivered_at": "2026-10-01T15:00:00Z", "method": "mail"}
    new_yorker = customer(client, crm, {"jurisdictions": ["US-NY"]}, ("/notices", notice))
    window = "glba.initial_notice.opt_out_window"
    opens = NOTICE_MAILED + timedelta(days=30)
    sharing = {"purpose": "share_third_parties", "source": "data_use"}
    assert window in rules_at(client, crm, opens - SECOND, new_yorker, **sharing)
    assert rules_at(client, crm, opens, new_yorker, **sharing) == []
    assert rules_at(client, crm, opens + SECOND, new_yorker, **sharing) == []


LGTEL_STARTS = datetime(2023, 6, 28, 22, tzinfo=UTC)  # 29 June 2023, 00:00 in Madrid (CEST)


def test_lgtel_applies_from_midnight_in_madrid(
    client: TestClient, crm: dict[str, str], suppression: SuppressionLists
) -> None:
    suppression.load(LISTA_ROBINSON, date(2023, 6, 1))
    madrileno = customer(client, crm, {"jurisdictions": ["ES"], "time_zone": "Europe/Madrid",
                                       "contact_points": {"phone": ["+34600000177"]}})  # fmt: skip
    lgtel = "lgtel.art66_1_b.marketing_calls"
    assert lgtel not in rules_at(client, crm, LGTEL_STARTS - SECOND, madrileno, channel="phone")
    assert lgtel in rules_at(client, crm, LGTEL_STARTS, madrileno, channel="phone")
    assert lgtel in rules_at(client, crm, LGTEL_STARTS + SECOND, madrileno, channel="phone")
