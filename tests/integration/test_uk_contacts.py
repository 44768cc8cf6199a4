"""Customers in the UK through the gate, on both stores: PECR's consent for e-mail, and the
Telephone Preference Service register for live calls (uk.toml). The register is loaded as
the `uk_tps` suppression list, numbers read as British."""

import uuid
from datetime import UTC, datetime

from consent.gate import CheckCommand, Gate
from consent.suppression import UK_TPS
from policy.vocabulary import Channel, Purpose, Source
from tests.conftest import ACTOR, CustomerFactory, SuppressionLists


def contact(customer_id: str, channel: Channel) -> CheckCommand:
    return CheckCommand(
        customer_id=customer_id,
        channel=channel,
        purpose=Purpose.MARKETING,
        source=Source.TELEMARKETING if channel is Channel.PHONE else Source.CAMPAIGN,
        idempotency_key=uuid.uuid4().hex,
        automated=False,
    )


def rules(gate: Gate, command: CheckCommand) -> list[str]:
    return [reason.rule for reason in gate.check(command, ACTOR, datetime.now(UTC)).answer.reasons]


def test_marketing_e_mail_to_the_uk_needs_consent(gate: Gate, customers: CustomerFactory) -> None:
    email = f"uk.{uuid.uuid4().hex[:10]}@example.co.uk"
    customer_id = customers.create(("GB-SCT",), time_zone="Europe/London", email=email, phone=None)
    assert rules(gate, contact(customer_id, Channel.EMAIL)) == ["pecr.reg22.e_marketing_consent"]
    customers.opted_in_marketing(customer_id)
    assert rules(gate, contact(customer_id, Channel.EMAIL)) == []


def test_a_live_call_to_the_uk_is_checked_against_the_tps(
    gate: Gate, customers: CustomerFactory, suppression: SuppressionLists
) -> None:
    national = f"020 7946 0{uuid.uuid4().int % 1000:03d}"  # Ofcom's range for drama
    customer_id = customers.create(
        ("GB",), time_zone="Europe/London", email=None, phone=f"+44 {national[1:]}"
    )
    suppression.remove(UK_TPS)
    assert rules(gate, contact(customer_id, Channel.PHONE)) == ["pecr.reg21.tps.copy_missing"]
    today = datetime.now(UTC).date()
    suppression.load(UK_TPS, today, phones=(national,))  # read as a British number
    assert rules(gate, contact(customer_id, Channel.PHONE)) == ["pecr.reg21.tps"]
    suppression.load(UK_TPS, today)
    assert rules(gate, contact(customer_id, Channel.PHONE)) == []
