"""Factories for the policy tests: facts about one contact and a stand-in rule."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from policy.engine import PolicyEngine
from policy.facts import ConsentFact, Facts, ListFact, Relationship
from policy.reasons import Reason
from policy.vocabulary import Channel, ConsentStatus, PreferenceStatus, Purpose, Source

SEND_AT = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
SUPPRESSION_LISTS = ("national_dnc", "internal_dnc", "lista_robinson")


def make_facts(**overrides: Any) -> Facts:
    """An EU email marketing contact with nothing on record; override what a test needs.

    The suppression lists are loaded, current at send time and without the contact, as a
    sender keeps them: a test of a list's own rules overrides ``lists``.
    """
    fields: dict[str, Any] = {
        "jurisdictions": frozenset({"ES"}),
        "channel": Channel.EMAIL,
        "purpose": Purpose.MARKETING,
        "source": Source.CAMPAIGN,
        "send_at": SEND_AT,
    }
    fields.update(overrides)
    fields["jurisdictions"] = frozenset(fields["jurisdictions"])
    if "lists" not in overrides:
        day = fields["send_at"].astimezone(UTC).date()
        fields["lists"] = clear_of(*SUPPRESSION_LISTS, source_date=day)
    return Facts(**fields)


def local_midnight(day: date, zone: str) -> datetime:
    """The first instant of ``day`` in ``zone``: when a rule dated ``day`` starts (or a rule
    in force until ``day`` ends) for a customer there, since effective dates are local dates."""
    return datetime.combine(day, time(), tzinfo=ZoneInfo(zone))


def granted(captured_at: datetime = LONG_AGO, expires_at: datetime | None = None) -> ConsentFact:
    return ConsentFact(ConsentStatus.GRANTED, captured_at, expires_at)


def withdrawn(captured_at: datetime = LONG_AGO, expires_at: datetime | None = None) -> ConsentFact:
    return ConsentFact(ConsentStatus.WITHDRAWN, captured_at, expires_at)


def objected(captured_at: datetime = LONG_AGO) -> ConsentFact:
    return ConsentFact(ConsentStatus.OBJECTED, captured_at)


def granted_at_age(age: int | None, captured_at: datetime = LONG_AGO) -> ConsentFact:
    """A grant by a customer who was ``age`` when they gave it (None: birth date unknown)."""
    return ConsentFact(ConsentStatus.GRANTED, captured_at, age_at_capture=age)


def bought(at: datetime = LONG_AGO) -> Relationship:
    """A customer whose last purchase was at ``at``."""
    return Relationship(last_purchase_at=at)


def inquired(at: datetime = LONG_AGO) -> Relationship:
    """A customer who never bought, whose last inquiry or application was at ``at``."""
    return Relationship(last_inquiry_at=at)


def clear_of(*names: str, source_date: date = date(2000, 1, 1)) -> dict[str, ListFact]:
    """Copies of these lists, loaded before any send time the tests use, without the contact."""
    return {name: ListFact(source_date=source_date, listed=False) for name in names}


OPTED_IN = PreferenceStatus.OPTED_IN
# The data uses a check names without a channel.
DATA_USES = (Purpose.PROFILING, Purpose.SHARE_AFFILIATES, Purpose.SHARE_THIRD_PARTIES)


@dataclass(frozen=True)
class StandInRule:
    """What a requirement reads of its rule; lets requirements be tested without a pack."""

    id: str = "test.rule"
    regime: str = "Test"
    citation: str = "Test Act s.1"
    message: str = "The test rule says no."


RULE = StandInRule()
POLICIES = Path(__file__).resolve().parents[2] / "policies"


def rule_ids(policy: PolicyEngine, facts: Facts) -> list[str]:
    """The rules that deny these facts, in the engine's order."""
    return [reason.rule for reason in policy.evaluate(facts)]


def reason_of(policy: PolicyEngine, facts: Facts, rule: str) -> Reason:
    """The one reason ``rule`` gives against these facts."""
    (reason,) = [reason for reason in policy.evaluate(facts) if reason.rule == rule]
    return reason
