"""PIPEDA's consent principle (pipeda.toml): a data use a check names, for a customer in
Canada, needs a consent on record for that purpose. Each edge one second before and at."""

from dataclasses import replace
from datetime import date, timedelta

import pytest

from policy.engine import PolicyEngine
from policy.facts import ConsentFact, Facts
from policy.vocabulary import Channel, ConsentStatus, LegalException, Purpose
from tests.policy.factories import (
    DATA_USES,
    OPTED_IN,
    SEND_AT,
    granted,
    local_midnight,
    make_facts,
    objected,
    withdrawn,
)

SECOND = timedelta(seconds=1)


def consent_rule(purpose: Purpose) -> str:
    return f"pipeda.principle3.consent.{purpose}"


def data_use(purpose: Purpose, **facts: object) -> Facts:
    """A data-use check (no channel) for a customer in Ontario."""
    fields = {"jurisdictions": {"CA-ON"}, "channel": None, "purpose": purpose, **facts}
    return make_facts(**fields)


def rule_ids(policy: PolicyEngine, facts: Facts) -> list[str]:
    return [reason.rule for reason in policy.evaluate(facts)]


@pytest.mark.parametrize("purpose", DATA_USES)
def test_a_data_use_needs_a_consent_on_record(policy: PolicyEngine, purpose: Purpose) -> None:
    (reason,) = policy.evaluate(data_use(purpose))
    assert (reason.rule, reason.regime) == (consent_rule(purpose), "PIPEDA")
    assert reason.citation.startswith("PIPEDA (S.C. 2000, c. 5) Schedule 1, clause 4.3")
    assert policy.evaluate(data_use(purpose, consents={purpose: granted()})) == ()


@pytest.mark.parametrize("refusal", [withdrawn, objected])
def test_a_withdrawal_or_objection_ends_it(policy: PolicyEngine, refusal: object) -> None:
    refused = refusal(SEND_AT - timedelta(days=1))  # type: ignore[operator]
    facts = data_use(Purpose.SHARE_THIRD_PARTIES, consents={Purpose.SHARE_THIRD_PARTIES: refused})
    assert rule_ids(policy, facts) == [consent_rule(Purpose.SHARE_THIRD_PARTIES)]


def test_a_consent_counts_until_it_expires(policy: PolicyEngine) -> None:
    end = SEND_AT + timedelta(hours=3)
    facts = data_use(Purpose.PROFILING, consents={Purpose.PROFILING: granted(expires_at=end)})
    assert policy.evaluate(replace(facts, send_at=end - SECOND)) == ()
    assert rule_ids(policy, replace(facts, send_at=end)) == [consent_rule(Purpose.PROFILING)]
    assert policy.holds_until(facts, end + timedelta(days=1)) == end


def test_the_rule_applies_from_1_january_2004_local_time(policy: PolicyEngine) -> None:
    start = local_midnight(date(2004, 1, 1), "America/Toronto")
    facts = data_use(Purpose.SHARE_AFFILIATES, time_zones=("America/Toronto",))
    assert policy.evaluate(replace(facts, send_at=start - SECOND)) == ()
    expected = [consent_rule(Purpose.SHARE_AFFILIATES)]
    assert rule_ids(policy, replace(facts, send_at=start)) == expected


def test_contacts_are_judged_by_casl_and_the_crtc_not_by_this_rule(policy: PolicyEngine) -> None:
    email = make_facts(
        jurisdictions={"CA-ON"}, consents={Purpose.MARKETING: granted()}, channel_status=OPTED_IN
    )
    assert policy.evaluate(email) == ()
    assert policy.evaluate(replace(email, channel=Channel.POST, channel_status=None)) == ()


def test_a_us_customer_is_not_judged_by_pipeda(policy: PolicyEngine) -> None:
    us = data_use(Purpose.PROFILING, jurisdictions={"US-NY"})
    assert policy.evaluate(us) == ()


@pytest.mark.parametrize(
    ("exception", "lifted"),
    [
        (LegalException.LEGAL_PROCESS, True),
        (LegalException.CORPORATE_TRANSACTION, True),
        (LegalException.CONSUMER_REPORTING, False),
        (LegalException.JOINT_MARKETING, False),
    ],
)
def test_a_disclosure_pipeda_allows_without_consent_needs_none_on_record(
    policy: PolicyEngine, exception: LegalException, lifted: bool
) -> None:
    facts = data_use(Purpose.SHARE_THIRD_PARTIES, exception=exception)
    expected = [] if lifted else [consent_rule(Purpose.SHARE_THIRD_PARTIES)]
    assert rule_ids(policy, facts) == expected


def test_a_record_on_another_basis_is_no_consent_under_pipeda(policy: PolicyEngine) -> None:
    contract = ConsentFact(
        ConsentStatus.GRANTED, SEND_AT - timedelta(days=9), legal_basis="contract"
    )
    facts = data_use(Purpose.SHARE_AFFILIATES, consents={Purpose.SHARE_AFFILIATES: contract})
    assert rule_ids(policy, facts) == [consent_rule(Purpose.SHARE_AFFILIATES)]


# Quebec (CQLR c P-39.1 s. 4.1, 14): a consent given under 14 is no consent.


def aged(age: int | None, purpose: Purpose = Purpose.PROFILING) -> dict[Purpose, ConsentFact]:
    return {purpose: replace(granted(), age_at_capture=age)}


@pytest.mark.parametrize("purpose", DATA_USES)
def test_in_quebec_a_consent_counts_from_14(policy: PolicyEngine, purpose: Purpose) -> None:
    quebec = {"jurisdictions": {"CA-QC"}}
    (reason,) = policy.evaluate(data_use(purpose, consents=aged(13, purpose), **quebec))
    assert reason.rule == consent_rule(purpose)
    assert "given at age 13, younger than 14" in reason.message
    assert reason.citation.endswith("Quebec: CQLR c P-39.1 s. 4.1, 14")
    assert policy.evaluate(data_use(purpose, consents=aged(14, purpose), **quebec)) == ()
    assert policy.evaluate(data_use(purpose, consents=aged(None, purpose), **quebec)) == ()


def test_elsewhere_in_canada_pipeda_sets_no_age(policy: PolicyEngine) -> None:
    assert policy.evaluate(data_use(Purpose.PROFILING, consents=aged(12))) == ()


def test_a_customer_of_quebec_and_ontario_is_held_to_quebecs_age(policy: PolicyEngine) -> None:
    both = data_use(Purpose.PROFILING, consents=aged(13), jurisdictions={"CA-QC", "CA-ON"})
    assert rule_ids(policy, both) == [consent_rule(Purpose.PROFILING)]


def test_a_record_on_another_basis_is_not_consent_whatever_the_age(
    policy: PolicyEngine,
) -> None:
    """PIPEDA's rules need a consent: a contract at any age is none (as before Quebec)."""
    record = replace(granted(), age_at_capture=30, legal_basis="contract")
    facts = data_use(Purpose.PROFILING, consents={Purpose.PROFILING: record})
    assert rule_ids(policy, facts) == [consent_rule(Purpose.PROFILING)]
