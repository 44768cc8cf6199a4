"""The idempotency hash stored with each check gives nothing of the destination away: it
enters sealed under a key, so a search of phone numbers or known e-mail addresses against
the stored hash and the row's other fields finds nothing. Retries still match, on both
stores, and so does a check recorded with the plain hash before the seal."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select, update

from consent.crypto import KeyRing
from consent.errors import IdempotencyConflictError
from consent.gate import CheckCommand, Gate
from consent.store.database import transaction
from consent.store.schema import checks
from policy.vocabulary import Channel, Purpose, Source
from tests.conftest import ACTOR, CustomerFactory

NOW = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
EMAIL = "ana@example.com"


@pytest.fixture
def sent_to(customers: CustomerFactory) -> CheckCommand:
    customer_id = customers.create(email=EMAIL)
    customers.opted_in_marketing(customer_id)
    return CheckCommand(
        customer_id, Purpose.MARKETING, Source.CAMPAIGN, uuid.uuid4().hex,
        channel=Channel.EMAIL, destination=EMAIL,
    )  # fmt: skip


def stored_hash(engine: Engine, check_id: str) -> str:
    with engine.connect() as conn:
        found: str = conn.execute(
            select(checks.c.request_hash).where(checks.c.id == check_id)
        ).scalar_one()
    return found


def test_the_stored_hash_does_not_reveal_the_destination(
    gate: Gate, engine: Engine, keyring: KeyRing, sent_to: CheckCommand
) -> None:
    answer = gate.check(sent_to, ACTOR, NOW).answer
    stored = stored_hash(engine, answer.check_id)
    # The search an attacker with the row would run: the body with a guessed destination.
    assert stored != sent_to.request_hash()
    assert stored == sent_to.request_hash(keyring.request_seal)
    other_key = KeyRing(b"\x01" * 32)
    assert stored != sent_to.request_hash(other_key.request_seal)


def test_a_retry_replays_and_another_destination_conflicts(
    gate: Gate, sent_to: CheckCommand
) -> None:
    first = gate.check(sent_to, ACTOR, NOW)
    again = gate.check(sent_to, ACTOR, NOW)
    assert again.replayed
    assert again.document == first.document
    with pytest.raises(IdempotencyConflictError):
        gate.check(replace(sent_to, destination="eve@example.com"), ACTOR, NOW)


def test_a_check_recorded_with_the_plain_hash_still_replays(
    gate: Gate, engine: Engine, sent_to: CheckCommand
) -> None:
    first = gate.check(sent_to, ACTOR, NOW)
    with transaction(engine) as conn:  # as stored before the seal
        conn.execute(
            update(checks)
            .where(checks.c.id == first.answer.check_id)
            .values(request_hash=sent_to.request_hash())
        )
    assert gate.check(sent_to, ACTOR, NOW).replayed
    with pytest.raises(IdempotencyConflictError):
        gate.check(replace(sent_to, destination="eve@example.com"), ACTOR, NOW)


def test_a_check_without_a_destination_hashes_as_before(
    gate: Gate, engine: Engine, sent_to: CheckCommand
) -> None:
    bare = replace(sent_to, destination=None)
    answer = gate.check(bare, ACTOR, NOW).answer
    assert stored_hash(engine, answer.check_id) == bare.request_hash()
