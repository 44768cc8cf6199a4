"""How long an allow holds (``PolicyEngine.holds_until``) when the law's own terms run out.

An allow's ``valid_until`` used to ignore these: a consent expiring, an existing business
relationship ageing out of its window (CASL, LGTel, FCRA), the GLBA annual notice's 12
months ending, and a rule coming into force. Each case is checked at its edge: the allow
holds until the instant given, and that instant is the first one the law denies.
"""

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from policy.engine import PolicyEngine
from policy.facts import Relationship
from policy.vocabulary import Channel, Purpose
from tests.policy.factories import (
    OPTED_IN,
    bought,
    granted,
    inquired,
    local_midnight,
    make_facts,
    objected,
)

INSTANT = timedelta(microseconds=1)
DAY = timedelta(days=1)
AT = datetime(2026, 11, 26, 15, tzinfo=UTC)  # 10:00 in New York, 16:00 in Madrid
FAR = AT + timedelta(days=400)  # past any end these tests look for


def _facts(**overrides: object) -> dict[str, object]:
    return {"send_at": AT, **overrides}


def holds_until(policy: PolicyEngine, **overrides: object) -> datetime:
    return policy.holds_until(make_facts(**_facts(**overrides)), FAR)


def denies(policy: PolicyEngine, at: datetime, **overrides: object) -> list[str]:
    facts = make_facts(**_facts(**{**overrides, "send_at": at}))
    return [reason.rule for reason in policy.evaluate(facts)]


def assert_lapses_at(policy: PolicyEngine, end: datetime, **overrides: object) -> None:
    """Allowed now and until just before ``end``, denied from ``end``, and said so."""
    start = overrides.get("send_at", AT)
    assert isinstance(start, datetime)
    assert denies(policy, start, **overrides) == []
    assert holds_until(policy, **overrides) == end
    assert denies(policy, end - INSTANT, **overrides) == []
    assert denies(policy, end, **overrides) != []


# CASL: a purchase within 2 years, or an inquiry within 6 months, implies consent.
CANADA_EMAIL = {"jurisdictions": {"CA-ON"}, "channel": Channel.EMAIL}


def test_an_allow_on_an_inquiry_lapses_when_its_6_months_end(policy: PolicyEngine) -> None:
    inquiry = AT - timedelta(days=180)
    ends = datetime(2026, 11, 30, 15, tzinfo=UTC) + INSTANT  # 31 May + P6M: 30 November
    assert_lapses_at(policy, ends, **CANADA_EMAIL, relationship=inquired(inquiry))


def test_the_later_of_two_dealings_bounds_the_allow(policy: PolicyEngine) -> None:
    relationship = Relationship(
        last_purchase_at=AT - timedelta(days=729), last_inquiry_at=AT - timedelta(days=180)
    )
    ends = datetime(2026, 11, 30, 15, tzinfo=UTC) + INSTANT  # the inquiry outlasts the purchase
    assert_lapses_at(policy, ends, **CANADA_EMAIL, relationship=relationship)


def test_express_consent_outlasts_the_relationship(policy: PolicyEngine) -> None:
    facts = {
        **CANADA_EMAIL,
        "relationship": inquired(AT - timedelta(days=180)),
        "consents": {Purpose.MARKETING: granted()},
        "channel_status": OPTED_IN,
    }
    assert holds_until(policy, **facts) == FAR


def test_a_consent_expiring_after_the_relationship_ends_bounds_the_allow(
    policy: PolicyEngine,
) -> None:
    expires = AT + timedelta(days=30)
    facts = {
        **CANADA_EMAIL,
        "relationship": inquired(AT - timedelta(days=180)),
        "consents": {Purpose.MARKETING: granted(expires_at=expires)},
        "channel_status": OPTED_IN,
    }
    assert_lapses_at(policy, expires, **facts)


def test_a_consent_expiring_before_the_relationship_ends_does_not(policy: PolicyEngine) -> None:
    facts = {
        **CANADA_EMAIL,
        "relationship": bought(AT - timedelta(days=30)),  # good for two years
        "consents": {Purpose.MARKETING: granted(expires_at=AT + DAY)},
        "channel_status": OPTED_IN,
    }
    assert holds_until(policy, **facts) == FAR


def test_an_allow_on_express_consent_lapses_when_it_expires(policy: PolicyEngine) -> None:
    """GDPR / ePrivacy email marketing in Spain on a consent with an end date."""
    expires = AT + timedelta(days=3, hours=2)
    facts = {
        "consents": {Purpose.MARKETING: granted(expires_at=expires)},
        "channel_status": OPTED_IN,
    }
    assert_lapses_at(policy, expires, **facts)


def test_the_soft_opt_in_never_lapses_with_time(policy: PolicyEngine) -> None:
    """ePrivacy Art 13(2): any purchase on record, until the customer objects."""
    assert denies(policy, AT, relationship=bought()) == []
    assert holds_until(policy, relationship=bought()) == FAR


# LGTel Art 66.1.b: marketing calls on a purchase within the past year.
def test_a_marketing_call_on_a_purchase_lapses_a_year_after_it(policy: PolicyEngine) -> None:
    purchase = datetime(2025, 12, 1, 9, 30, tzinfo=UTC)
    facts = {
        "channel": Channel.PHONE,
        "automated": False,
        "time_zones": ("Europe/Madrid",),
        "relationship": bought(purchase),
        "send_at": datetime(2026, 11, 30, 10, tzinfo=UTC),
    }
    assert_lapses_at(policy, datetime(2026, 12, 1, 9, 30, tzinfo=UTC) + INSTANT, **facts)


# FCRA affiliate marketing: a relationship lets an affiliate past an opt-out or the wait.
US_AFFILIATE = {
    "jurisdictions": {"US-NY"},
    "channel": Channel.EMAIL,
    "purpose": Purpose.SHARE_AFFILIATES,
    "time_zones": ("America/New_York",),
}
NOTICE_LONG_AGO = {"fcra_affiliate": (datetime(2020, 1, 1, tzinfo=UTC),)}


def test_an_affiliate_contact_past_an_opt_out_lapses_with_the_relationship(
    policy: PolicyEngine,
) -> None:
    purchase = datetime(2025, 5, 28, 15, tzinfo=UTC)  # + P18M: 28 November 2026
    facts = {
        **US_AFFILIATE,
        "notices": NOTICE_LONG_AGO,
        "consents": {Purpose.SHARE_AFFILIATES: objected()},
        "relationship": bought(purchase),
    }
    assert_lapses_at(policy, datetime(2026, 11, 28, 15, tzinfo=UTC) + INSTANT, **facts)


def test_an_affiliate_contact_within_the_notice_wait_lapses_with_the_relationship(
    policy: PolicyEngine,
) -> None:
    notice = {"fcra_affiliate": (AT - timedelta(days=10),)}  # 20 days of the 30 to go
    inquiry = datetime(2026, 8, 28, 15, tzinfo=UTC)  # + P3M: 28 November, 2 days from now
    facts = {**US_AFFILIATE, "notices": notice, "relationship": inquired(inquiry)}
    assert_lapses_at(policy, datetime(2026, 11, 28, 15, tzinfo=UTC) + INSTANT, **facts)


def test_a_relationship_that_outlasts_the_notice_wait_does_not_end_the_allow(
    policy: PolicyEngine,
) -> None:
    notice = {"fcra_affiliate": (AT - timedelta(days=29),)}  # the wait ends tomorrow
    facts = {**US_AFFILIATE, "notices": notice, "relationship": inquired(AT - timedelta(days=80))}
    assert denies(policy, AT, **facts) == []
    assert holds_until(policy, **facts) == FAR


# GLBA: sharing only while the customer has had a notice within 12 months (1016.5(a)(1)).
def test_sharing_lapses_when_the_annual_notice_runs_out(policy: PolicyEngine) -> None:
    facts = {
        "jurisdictions": {"US-TX"},
        "time_zones": ("America/Chicago",),
        "channel": None,
        "purpose": Purpose.SHARE_THIRD_PARTIES,
        "notices": {"glba_initial": (datetime(2025, 12, 1, 14, tzinfo=UTC),)},
    }
    assert_lapses_at(policy, datetime(2026, 12, 1, 14, tzinfo=UTC) + INSTANT, **facts)


# A rule coming into force inside the window: Portugal, where the day begins in Lisbon an
# hour before it does in the Azores.
@pytest.fixture
def consent_law_from_december(policy: PolicyEngine) -> PolicyEngine:
    """The ePrivacy consent rule for email, as if it came into force on 1 December 2026."""
    rules = [
        dataclasses.replace(rule, effective_from=date(2026, 12, 1))
        if rule.id == "eprivacy.art13_1.e_marketing_consent"
        else rule
        for rule in policy.rules
    ]
    return PolicyEngine(rules, version=policy.version)


def test_an_allow_ends_when_a_rule_comes_into_force(
    consent_law_from_december: PolicyEngine,
) -> None:
    """No consent on record: allowed before the law, denied from midnight in the Azores."""
    midnight = local_midnight(date(2026, 12, 1), "Atlantic/Azores").astimezone(UTC)
    facts = {"jurisdictions": {"PT"}, "time_zones": ("Atlantic/Azores",)}
    assert_lapses_at(consent_law_from_december, midnight, **facts)


def test_an_unknown_zone_ends_the_allow_when_the_day_first_begins_in_the_country(
    consent_law_from_december: PolicyEngine,
) -> None:
    midnight = local_midnight(date(2026, 12, 1), "Europe/Lisbon").astimezone(UTC)
    facts = {"jurisdictions": {"PT"}}
    assert holds_until(consent_law_from_december, **facts) == midnight
    assert denies(consent_law_from_december, midnight - INSTANT, **facts) == []
    assert denies(consent_law_from_december, midnight, **facts) != []


def test_a_rule_long_in_force_does_not_bound_the_allow(policy: PolicyEngine) -> None:
    assert holds_until(policy, jurisdictions={"PT"}, relationship=bought()) == FAR
