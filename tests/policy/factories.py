"""Factories for the policy tests: facts about one contact and a stand-in rule."""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from policy.facts import ConsentFact, Facts
from policy.vocabulary import Channel, ConsentStatus, PreferenceStatus, Purpose, Source

SEND_AT = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def make_facts(**overrides: Any) -> Facts:
    """An EU email marketing contact with nothing on record; override what a test needs."""
    fields: dict[str, Any] = {
        "jurisdictions": frozenset({"ES"}),
        "channel": Channel.EMAIL,
        "purpose": Purpose.MARKETING,
        "source": Source.CAMPAIGN,
        "send_at": SEND_AT,
    }
    fields.update(overrides)
    fields["jurisdictions"] = frozenset(fields["jurisdictions"])
    return Facts(**fields)


def granted(captured_at: datetime = LONG_AGO, expires_at: datetime | None = None) -> ConsentFact:
    return ConsentFact(ConsentStatus.GRANTED, captured_at, expires_at)


def withdrawn(captured_at: datetime = LONG_AGO, expires_at: datetime | None = None) -> ConsentFact:
    return ConsentFact(ConsentStatus.WITHDRAWN, captured_at, expires_at)


def objected(captured_at: datetime = LONG_AGO) -> ConsentFact:
    return ConsentFact(ConsentStatus.OBJECTED, captured_at)


OPTED_IN = PreferenceStatus.OPTED_IN


@dataclass(frozen=True)
class StandInRule:
    """What a requirement reads of its rule; lets requirements be tested without a pack."""

    id: str = "test.rule"
    regime: str = "Test"
    citation: str = "Test Act s.1"
    message: str = "The test rule says no."


RULE = StandInRule()
POLICIES = Path(__file__).resolve().parents[2] / "policies"
