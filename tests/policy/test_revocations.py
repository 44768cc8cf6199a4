"""TCPA revocation (47 CFR 64.1200(a)(10)) and written consent ((a)(2), (f)(9)) in the packs."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from policy.engine import PolicyEngine
from policy.facts import ConsentFact, RevocationFact
from policy.kinds.revocations import (
    NoRevocationParams,
    no_revocation,
    standard_keyword,
    standing_revocations,
)
from policy.vocabulary import Channel, ConsentStatus, Purpose
from tests.policy.factories import RULE, granted, make_facts

NEW_YORK = ("America/New_York",)
NOON_NEW_YORK = datetime(2026, 11, 26, 17, tzinfo=UTC)
STOPPED_AT = datetime(2026, 11, 20, 15, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def stop(channel: Channel = Channel.SMS, at: datetime = STOPPED_AT) -> RevocationFact:
    return RevocationFact(channel=channel, words="STOP", received_at=at, recorded_at=at)


def written(captured_at: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> ConsentFact:
    return ConsentFact(ConsentStatus.GRANTED, captured_at, written=True)


# The rules under test; others (do-not-call lists, state caps) are tested on their own.
UNDER_TEST = ("tcpa.written_consent", "tcpa.revocation")


def us_rules(policy: PolicyEngine, **overrides: object) -> list[str]:
    """Which of the rules under test deny a US marketing text at noon in New York, sent
    with written consent unless overridden."""
    fields: dict[str, object] = {
        "jurisdictions": {"US-NY"},
        "channel": Channel.SMS,
        "send_at": NOON_NEW_YORK,
        "time_zones": NEW_YORK,
        "consents": {Purpose.MARKETING: written()},
    }
    fields.update(overrides)
    return [r.rule for r in policy.evaluate(make_facts(**fields)) if r.rule in UNDER_TEST]


@pytest.mark.parametrize(
    ("words", "keyword"),
    [
        ("STOP", "STOP"),
        (" stop ", "STOP"),
        ("Stop!", "STOP"),
        ("opt out", "OPT OUT"),
        ("Opt-Out", "OPT OUT"),
        ("OPTOUT", "OPT OUT"),
        ("Unsubscribe.", "UNSUBSCRIBE"),
        ("quit", "QUIT"),
        ("End", "END"),
        ("revoke", "REVOKE"),
        ("CANCEL", "CANCEL"),
    ],
)
def test_the_standard_stop_words_are_recognised_whatever_their_case_and_spacing(
    words: str, keyword: str
) -> None:
    assert standard_keyword(words) == keyword


@pytest.mark.parametrize("words", ["please stop texting me", "no más", "STOPP", "", "start"])
def test_other_words_are_not_a_standard_keyword(words: str) -> None:
    assert standard_keyword(words) is None


def test_a_stop_denies_marketing_texts_under_the_tcpa(policy: PolicyEngine) -> None:
    assert us_rules(policy, revocations=(stop(),)) == ["tcpa.revocation"]


def test_a_stop_by_text_also_stops_marketing_calls(policy: PolicyEngine) -> None:
    # FCC 24-24: a revocation covers robocalls and robotexts to the number alike.
    assert us_rules(policy, channel=Channel.PHONE, revocations=(stop(),)) == ["tcpa.revocation"]


def test_an_email_unsubscribe_does_not_stop_texts_under_the_tcpa(policy: PolicyEngine) -> None:
    assert us_rules(policy, revocations=(stop(Channel.EMAIL),)) == []


def test_the_tcpa_revocation_reason_says_what_was_said_and_when(policy: PolicyEngine) -> None:
    facts = make_facts(
        jurisdictions={"US-NY"}, channel=Channel.SMS, send_at=NOON_NEW_YORK,
        time_zones=NEW_YORK, consents={Purpose.MARKETING: written()}, revocations=(stop(),),
    )  # fmt: skip
    (reason,) = [r for r in policy.evaluate(facts) if r.rule == "tcpa.revocation"]
    assert reason.citation == "47 CFR 64.1200(a)(10)"
    assert "Customer revoked consent by sms ('STOP') on 2026-11-20." in reason.message


def test_the_tcpa_revocation_rule_applies_from_11_april_2025(policy: PolicyEngine) -> None:
    day_before = datetime(2025, 4, 10, 17, tzinfo=UTC)
    in_force = datetime(2025, 4, 11, 17, tzinfo=UTC)
    earlier = {
        "consents": {Purpose.MARKETING: written(datetime(2024, 1, 1, tzinfo=UTC))},
        "revocations": (stop(at=datetime(2025, 1, 2, tzinfo=UTC)),),
    }
    assert us_rules(policy, send_at=day_before, **earlier) == []
    assert us_rules(policy, send_at=in_force, **earlier) == ["tcpa.revocation"]


def test_a_consent_granted_after_the_stop_supersedes_it() -> None:
    later = {Purpose.MARKETING: granted(STOPPED_AT + SECOND)}
    facts = make_facts(send_at=NOON_NEW_YORK, consents=later, revocations=(stop(),))
    assert no_revocation(facts, NoRevocationParams(), RULE) is None


def test_a_later_record_on_another_basis_does_not_supersede_the_stop() -> None:
    interests = ConsentFact(
        ConsentStatus.GRANTED, STOPPED_AT + SECOND, legal_basis="legitimate_interests"
    )
    consenting = {Purpose.MARKETING: granted(STOPPED_AT + SECOND)}
    facts = make_facts(
        channel=Channel.SMS, send_at=NOON_NEW_YORK, consents=consenting, revocations=(stop(),)
    )
    assert no_revocation(facts, NoRevocationParams(), RULE) is None  # a consent supersedes
    other_basis = replace(facts, consents={Purpose.MARKETING: interests})
    assert no_revocation(other_basis, NoRevocationParams(), RULE) is not None


def test_a_consent_granted_at_the_same_instant_as_the_stop_does_not_supersede_it() -> None:
    same = {Purpose.MARKETING: granted(STOPPED_AT)}
    facts = make_facts(
        channel=Channel.SMS, send_at=NOON_NEW_YORK, consents=same, revocations=(stop(),)
    )
    assert no_revocation(facts, NoRevocationParams(), RULE) is not None


def test_a_consent_granted_after_the_send_time_does_not_supersede_the_stop_at_it() -> None:
    after_send = {Purpose.MARKETING: granted(NOON_NEW_YORK + SECOND)}
    facts = make_facts(
        channel=Channel.SMS, send_at=NOON_NEW_YORK, consents=after_send, revocations=(stop(),)
    )
    assert no_revocation(facts, NoRevocationParams(), RULE) is not None


def test_an_expired_later_consent_does_not_supersede_the_stop() -> None:
    expired = ConsentFact(ConsentStatus.GRANTED, STOPPED_AT + SECOND, NOON_NEW_YORK)
    found = standing_revocations(
        (stop(),), (Channel.SMS,), Purpose.MARKETING, {Purpose.MARKETING: expired}, NOON_NEW_YORK
    )
    assert found == [stop()]


def test_a_later_consent_for_another_purpose_does_not_supersede_the_stop() -> None:
    other = {Purpose.PROFILING: granted(STOPPED_AT + SECOND)}
    found = standing_revocations((stop(),), (Channel.SMS,), Purpose.MARKETING, other, NOON_NEW_YORK)
    assert found == [stop()]


def test_a_stop_holds_even_for_a_send_time_before_it_was_recorded() -> None:
    # Fail closed, as a withdrawal does: a past send_at is no way around a STOP on record.
    found = standing_revocations(
        (stop(),), (Channel.SMS,), Purpose.MARKETING, {}, STOPPED_AT - timedelta(days=1)
    )
    assert found == [stop()]


def test_an_automated_marketing_text_without_written_consent_is_denied(
    policy: PolicyEngine,
) -> None:
    web_form = {Purpose.MARKETING: granted()}
    assert us_rules(policy, consents=web_form) == ["tcpa.written_consent"]


def test_the_written_consent_reason_says_the_consent_was_not_signed(policy: PolicyEngine) -> None:
    facts = make_facts(
        jurisdictions={"US-NY"}, channel=Channel.PHONE, send_at=NOON_NEW_YORK,
        time_zones=NEW_YORK, consents={Purpose.MARKETING: granted()},
    )  # fmt: skip
    (reason,) = [r for r in policy.evaluate(facts) if r.rule == "tcpa.written_consent"]
    assert reason.citation == "47 CFR 64.1200(a)(2), (f)(9)"
    assert "is not a signed written agreement" in reason.message


def test_an_automated_marketing_call_with_no_consent_is_denied(policy: PolicyEngine) -> None:
    assert us_rules(policy, channel=Channel.PHONE, consents={}) == ["tcpa.written_consent"]


def test_an_automated_marketing_text_with_written_consent_passes(policy: PolicyEngine) -> None:
    assert us_rules(policy) == []


def test_a_manual_call_needs_no_written_consent(policy: PolicyEngine) -> None:
    assert us_rules(policy, channel=Channel.PHONE, consents={}, automated=False) == []


def test_written_consent_does_not_bind_service_messages(policy: PolicyEngine) -> None:
    assert us_rules(policy, purpose=Purpose.SERVICE, consents={}) == []


def test_written_consent_applies_from_16_october_2013(policy: PolicyEngine) -> None:
    def noon(day: date) -> datetime:
        return datetime(day.year, day.month, day.day, 16, tzinfo=UTC)

    old_consent = {Purpose.MARKETING: granted(datetime(2010, 1, 1, tzinfo=UTC))}
    before = us_rules(policy, send_at=noon(date(2013, 10, 15)), consents=old_consent)
    assert before == []
    at = us_rules(policy, send_at=noon(date(2013, 10, 16)), consents=old_consent)
    assert at == ["tcpa.written_consent"]
