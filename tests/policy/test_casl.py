"""CASL: commercial electronic messages need express consent (s.6(1)) or implied consent from
an existing business relationship (s.10(9)-(10): a purchase within 2 years, an inquiry
within 6 months); an unsubscribe is honoured at once (s.11(3))."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from policy.engine import PolicyEngine
from policy.facts import Relationship
from policy.vocabulary import Channel, PreferenceStatus, Purpose
from tests.policy.factories import (
    OPTED_IN,
    SEND_AT,
    bought,
    granted,
    inquired,
    local_midnight,
    make_facts,
    withdrawn,
)

CONSENT = "casl.s6.consent"
UNSUBSCRIBE = "casl.s11.unsubscribe"
SECOND = timedelta(seconds=1)


def rules(policy: PolicyEngine, **overrides: object) -> list[str]:
    """The rules that deny a marketing email to a customer in Canada."""
    fields: dict[str, object] = {"jurisdictions": {"CA-ON"}, "channel": Channel.EMAIL}
    fields.update(overrides)
    return [reason.rule for reason in policy.evaluate(make_facts(**fields))]


def test_casl_email_without_consent_or_relationship_is_denied(policy: PolicyEngine) -> None:
    (reason,) = policy.evaluate(make_facts(jurisdictions={"CA"}, channel_status=OPTED_IN))
    assert (reason.rule, reason.regime) == (CONSENT, "CASL")
    assert reason.citation == "S.C. 2010, c. 23 (CASL) s.6(1)(a), 10(9)(a), 10(10)(a), (e)"
    assert "No consent recorded for marketing" in reason.message
    assert "no purchase within P2Y before the send time" in reason.message
    assert "no inquiry within P6M before the send time" in reason.message


def test_casl_email_with_express_consent_is_allowed(policy: PolicyEngine) -> None:
    assert rules(policy, consents={Purpose.MARKETING: granted()}, channel_status=OPTED_IN) == []


def test_casl_sms_with_consent_but_never_asked_about_sms_is_denied(policy: PolicyEngine) -> None:
    facts = {"channel": Channel.SMS, "consents": {Purpose.MARKETING: granted()}}
    assert rules(policy, **facts) == [CONSENT]


@pytest.mark.parametrize(
    ("dealing", "at", "ends"),
    [
        # s.10(10)(a): two calendar years from 29 February end on 28 February.
        (bought, datetime(2024, 2, 29, 11, tzinfo=UTC), datetime(2026, 2, 28, 11, tzinfo=UTC)),
        # s.10(10)(e): six calendar months from 31 August end on 28 February.
        (inquired, datetime(2025, 8, 31, 9, tzinfo=UTC), datetime(2026, 2, 28, 9, tzinfo=UTC)),
    ],
    ids=["purchase_2_years", "inquiry_6_months"],
)
def test_casl_implied_consent_lasts_its_window_after_a_dealing(
    policy: PolicyEngine,
    dealing: Callable[[datetime], Relationship],
    at: datetime,
    ends: datetime,
) -> None:
    relationship = dealing(at)
    assert rules(policy, relationship=relationship, send_at=ends - SECOND) == []
    assert rules(policy, relationship=relationship, send_at=ends) == []
    assert rules(policy, relationship=relationship, send_at=ends + SECOND) == [CONSENT]


def test_casl_implied_consent_covers_sms_never_asked_about(policy: PolicyEngine) -> None:
    facts = {"channel": Channel.SMS, "relationship": bought(SEND_AT - timedelta(days=90))}
    assert rules(policy, **facts) == []


def test_casl_unsubscribe_from_the_channel_is_honoured_despite_express_consent(
    policy: PolicyEngine,
) -> None:
    facts = make_facts(
        jurisdictions={"CA"},
        consents={Purpose.MARKETING: granted()},
        channel_status=PreferenceStatus.OPTED_OUT,
    )
    reasons = policy.evaluate(facts)
    assert [reason.rule for reason in reasons] == [CONSENT, UNSUBSCRIBE]
    assert reasons[1].citation == "S.C. 2010, c. 23 (CASL) s.11(3)"
    assert "Customer opted out of the email channel." in reasons[1].message


def test_casl_unsubscribe_ends_implied_consent(policy: PolicyEngine) -> None:
    facts = {
        "relationship": bought(SEND_AT - timedelta(days=10)),
        "consents": {Purpose.MARKETING: withdrawn(SEND_AT - timedelta(days=2))},
    }
    assert rules(policy, **facts) == [CONSENT, UNSUBSCRIBE]


def test_casl_unsubscribe_is_honoured_from_the_second_it_is_recorded(
    policy: PolicyEngine,
) -> None:
    facts = {"consents": {Purpose.MARKETING: withdrawn(SEND_AT)}, "relationship": bought()}
    assert rules(policy, send_at=SEND_AT, **facts) == [CONSENT, UNSUBSCRIBE]
    assert rules(policy, send_at=SEND_AT + SECOND, **facts) == [CONSENT, UNSUBSCRIBE]


def test_casl_applies_from_1_july_2014(policy: PolicyEngine) -> None:
    # From midnight in Toronto (04:00 UTC): effective dates are the customer's local dates.
    start = local_midnight(date(2014, 7, 1), "America/Toronto")
    in_toronto = {"time_zones": ("America/Toronto",)}
    assert rules(policy, send_at=start - SECOND, **in_toronto) == []
    assert rules(policy, send_at=start, **in_toronto) == [CONSENT]
    assert rules(policy, send_at=start + SECOND, **in_toronto) == [CONSENT]


def test_casl_does_not_judge_service_messages(policy: PolicyEngine) -> None:
    assert rules(policy, purpose=Purpose.SERVICE) == []


def test_casl_does_not_apply_to_us_customers(policy: PolicyEngine) -> None:
    assert rules(policy, jurisdictions={"US-NY"}) == []
