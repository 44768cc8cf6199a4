"""CAN-SPAM, 15 USC 7704(a)(3)-(4): no commercial email after an opt-out, honoured at once
rather than within the 10 business days the Act allows; no prior consent needed."""

from datetime import UTC, date, datetime, timedelta

from policy.engine import PolicyEngine
from policy.vocabulary import Channel, PreferenceStatus, Purpose
from tests.policy.factories import (
    SEND_AT,
    granted,
    local_midnight,
    make_facts,
    objected,
    withdrawn,
)

CANSPAM = "canspam.opt_out"
SECOND = timedelta(seconds=1)


def rules(policy: PolicyEngine, **overrides: object) -> list[str]:
    """The rules that deny a commercial email to a customer in New York."""
    fields: dict[str, object] = {"jurisdictions": {"US-NY"}, "channel": Channel.EMAIL}
    fields.update(overrides)
    return [reason.rule for reason in policy.evaluate(make_facts(**fields))]


def test_commercial_email_needs_no_prior_consent_in_the_us(policy: PolicyEngine) -> None:
    assert rules(policy) == []


def test_commercial_email_after_marketing_was_withdrawn_is_denied(policy: PolicyEngine) -> None:
    facts = make_facts(
        jurisdictions={"US-NY"},
        consents={Purpose.MARKETING: withdrawn(datetime(2024, 5, 2, tzinfo=UTC))},
    )
    (reason,) = policy.evaluate(facts)
    assert (reason.rule, reason.regime) == (CANSPAM, "CAN-SPAM")
    assert reason.citation == "15 USC 7704(a)(3)-(4); 16 CFR 316.5"
    assert "honours the opt-out at once" in reason.message
    assert "opted out of marketing on 2024-05-02" in reason.message


def test_commercial_email_after_an_email_unsubscribe_is_denied(policy: PolicyEngine) -> None:
    assert rules(policy, channel_status=PreferenceStatus.OPTED_OUT) == [CANSPAM]


def test_commercial_email_after_an_objection_is_denied(policy: PolicyEngine) -> None:
    assert rules(policy, consents={Purpose.MARKETING: objected()}) == [CANSPAM]


def test_an_opt_out_is_honoured_from_the_second_it_is_recorded(policy: PolicyEngine) -> None:
    # No 10-business-day grace: the first email after the request is already refused.
    opted = {Purpose.MARKETING: withdrawn(SEND_AT)}
    assert rules(policy, consents=opted, send_at=SEND_AT) == [CANSPAM]
    assert rules(policy, consents=opted, send_at=SEND_AT + SECOND) == [CANSPAM]


def test_a_new_consent_after_the_opt_out_allows_email_again(policy: PolicyEngine) -> None:
    assert rules(policy, consents={Purpose.MARKETING: granted()}) == []


def test_can_spam_does_not_judge_sms(policy: PolicyEngine) -> None:
    facts = {"channel": Channel.SMS, "channel_status": PreferenceStatus.OPTED_OUT}
    assert CANSPAM not in rules(policy, **facts)


def test_transactional_email_is_not_judged_by_can_spam(policy: PolicyEngine) -> None:
    assert rules(policy, purpose=Purpose.SERVICE, consents={Purpose.MARKETING: withdrawn()}) == []


def test_can_spam_applies_from_1_january_2004(policy: PolicyEngine) -> None:
    # From midnight in New York (05:00 UTC): effective dates are the customer's local dates.
    start = local_midnight(date(2004, 1, 1), "America/New_York")
    facts = {
        "consents": {Purpose.MARKETING: withdrawn(datetime(2003, 6, 1, tzinfo=UTC))},
        "time_zones": ("America/New_York",),
    }
    assert rules(policy, send_at=start - SECOND, **facts) == []
    assert rules(policy, send_at=start, **facts) == [CANSPAM]
    assert rules(policy, send_at=start + SECOND, **facts) == [CANSPAM]


def test_can_spam_does_not_apply_outside_the_us(policy: PolicyEngine) -> None:
    facts = make_facts(jurisdictions={"CA"}, consents={Purpose.MARKETING: withdrawn()})
    assert CANSPAM not in [reason.rule for reason in policy.evaluate(facts)]
