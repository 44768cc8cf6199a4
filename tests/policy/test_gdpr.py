"""The EEA rules beyond e-mail and SMS: live marketing calls where a member state's choice
under ePrivacy Art 13(3) is not encoded, and a lawful basis on record (GDPR Art 6(1)) for
each data use a check names.

Each edge one second before, at and after.
"""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from policy.engine import PolicyEngine
from policy.facts import ConsentFact, Facts, Relationship
from policy.jurisdictions import EEA_EFTA_STATES, EU_MEMBER_STATES
from policy.requirements import RequirementKind
from policy.vocabulary import Channel, ConsentStatus, LegalException, Purpose
from tests.policy.factories import (
    DATA_USES,
    OPTED_IN,
    SEND_AT,
    bought,
    granted,
    local_midnight,
    make_facts,
    objected,
    withdrawn,
)

CALLS = "eprivacy.art13_3.marketing_calls"
LGTEL = "lgtel.art66_1_b.marketing_calls"
SECOND = timedelta(seconds=1)


def rule_ids(policy: PolicyEngine, facts: Facts) -> list[str]:
    return [reason.rule for reason in policy.evaluate(facts)]


def call(**facts: object) -> Facts:
    """A marketing call dialled by hand to a customer in Germany."""
    fields = {"jurisdictions": {"DE"}, "channel": Channel.PHONE, "automated": False, **facts}
    return make_facts(**fields)


def basis(purpose: Purpose) -> str:
    return f"gdpr.art6.lawful_basis.{purpose}"


def data_use(purpose: Purpose, **facts: object) -> Facts:
    """A data-use check (no channel) for a customer in France."""
    return make_facts(**{"jurisdictions": {"FR"}, "channel": None, "purpose": purpose, **facts})


# ePrivacy Art 13(3): live marketing calls


@pytest.mark.parametrize("place", ["DE", "AT", "FR", "IT", "NO", "GP"])
def test_a_marketing_call_without_consent_is_denied_where_the_choice_is_not_encoded(
    policy: PolicyEngine, place: str
) -> None:
    # France's own calling hours may deny as well (france.toml): only the fallback here.
    (reason,) = [r for r in policy.evaluate(call(jurisdictions={place})) if r.rule == CALLS]
    assert (reason.rule, reason.regime) == (CALLS, "ePrivacy")
    assert reason.citation == "Directive 2002/58/EC Art 13(3); GDPR (EU) 2016/679 Art 8(1)"
    assert "No consent recorded for marketing" in reason.message


def test_a_marketing_call_with_consent_and_the_phone_opted_in_is_allowed(
    policy: PolicyEngine,
) -> None:
    consenting = call(consents={Purpose.MARKETING: granted()}, channel_status=OPTED_IN)
    assert policy.evaluate(consenting) == ()
    assert rule_ids(policy, replace(consenting, channel_status=None)) == [CALLS]


def test_a_purchase_does_not_stand_in_for_consent_to_calls(policy: PolicyEngine) -> None:
    # Unlike the e-mail soft opt-in of Art 13(2): Art 13(3) has no such exception.
    assert rule_ids(policy, call(relationship=bought(SEND_AT - timedelta(days=3)))) == [CALLS]


def test_a_withdrawal_or_objection_denies_the_call(policy: PolicyEngine) -> None:
    refused = call(consents={Purpose.MARKETING: withdrawn()}, channel_status=OPTED_IN)
    assert rule_ids(policy, refused) == [CALLS]
    objecting = call(consents={Purpose.MARKETING: objected()}, channel_status=OPTED_IN)
    assert set(rule_ids(policy, objecting)) == {CALLS, "gdpr.art21.marketing_objection"}


def test_a_consent_expiring_ends_the_allow_and_the_call(policy: PolicyEngine) -> None:
    expires = SEND_AT + timedelta(hours=5)
    facts = call(consents={Purpose.MARKETING: granted(expires_at=expires)}, channel_status=OPTED_IN)
    assert policy.evaluate(replace(facts, send_at=expires - SECOND)) == ()
    assert rule_ids(policy, replace(facts, send_at=expires)) == [CALLS]
    assert policy.holds_until(facts, SEND_AT + timedelta(days=1)) == expires


def test_spain_is_judged_by_its_own_choice_not_by_the_fallback(policy: PolicyEngine) -> None:
    # LGTel lets a company call its own customers of the past year without consent.
    recent = bought(SEND_AT - timedelta(days=30))
    spanish = call(jurisdictions={"ES"}, relationship=recent, lists=make_facts().lists)
    assert policy.evaluate(spanish) == ()
    assert rule_ids(policy, replace(spanish, relationship=Relationship())) == [LGTEL]


def test_a_customer_in_spain_and_germany_is_judged_by_both(policy: PolicyEngine) -> None:
    recent = bought(SEND_AT - timedelta(days=30))
    assert rule_ids(policy, call(jurisdictions={"ES", "DE"}, relationship=recent)) == [CALLS]


def test_every_eea_state_has_a_rule_for_marketing_calls(policy: PolicyEngine) -> None:
    """The fallback lists every EEA state whose choice no other rule encodes, and no other:
    a pack that encodes a state's choice must take it out of the fallback."""
    (fallback,) = [rule for rule in policy.rules if rule.id == CALLS]
    own_choice = {
        code
        for rule in policy.rules
        if rule.id != CALLS and "phone" in rule.channels and "marketing" in rule.purposes
        if not getattr(rule.params, "only_automated", False)  # not every call
        # Hours and caps (France's D. 223-9) say when and how often, not whether.
        if rule.requires not in (RequirementKind.LOCAL_HOURS, RequirementKind.MAX_CONTACTS)
        for code in rule.jurisdictions
    }
    eea = EU_MEMBER_STATES | EEA_EFTA_STATES
    assert set(fallback.jurisdictions) == eea - own_choice
    assert "ES" in own_choice  # LGTel Art 66.1.b


@pytest.mark.parametrize("place", ["US-NY", "CA"])
def test_the_fallback_does_not_reach_outside_the_eea(policy: PolicyEngine, place: str) -> None:
    assert CALLS not in rule_ids(policy, call(jurisdictions={place}))


def test_a_service_call_is_not_marketing(policy: PolicyEngine) -> None:
    assert policy.evaluate(call(purpose=Purpose.SERVICE)) == ()


# GDPR Art 6(1): a lawful basis on record for each data use


@pytest.mark.parametrize("purpose", DATA_USES)
def test_a_data_use_with_nothing_on_record_is_denied(
    policy: PolicyEngine, purpose: Purpose
) -> None:
    (reason,) = policy.evaluate(data_use(purpose))
    assert (reason.rule, reason.regime) == (basis(purpose), "GDPR")
    assert reason.citation == "GDPR (EU) 2016/679 Art 6(1), 8(1)"
    assert f"No consent recorded for {purpose}" in reason.message


@pytest.mark.parametrize("purpose", DATA_USES)
def test_a_data_use_with_a_basis_on_record_is_allowed(
    policy: PolicyEngine, purpose: Purpose
) -> None:
    assert policy.evaluate(data_use(purpose, consents={purpose: granted()})) == ()


def test_a_basis_for_another_purpose_is_not_a_basis_for_this_one(policy: PolicyEngine) -> None:
    facts = data_use(Purpose.SHARE_THIRD_PARTIES, consents={Purpose.SHARE_AFFILIATES: granted()})
    assert rule_ids(policy, facts) == [basis(Purpose.SHARE_THIRD_PARTIES)]


@pytest.mark.parametrize("refusal", [withdrawn, objected])
def test_a_withdrawal_or_objection_leaves_no_basis(policy: PolicyEngine, refusal: object) -> None:
    refused = refusal(SEND_AT - timedelta(days=1))  # type: ignore[operator]
    facts = data_use(Purpose.SHARE_AFFILIATES, consents={Purpose.SHARE_AFFILIATES: refused})
    assert rule_ids(policy, facts) == [basis(Purpose.SHARE_AFFILIATES)]


def test_a_basis_counts_from_its_capture_until_its_expiry(policy: PolicyEngine) -> None:
    start, end = SEND_AT - timedelta(days=2), SEND_AT + timedelta(days=2)
    facts = data_use(Purpose.PROFILING, consents={Purpose.PROFILING: granted(start, end)})
    for at, denied in ((start - SECOND, True), (start, False), (end - SECOND, False), (end, True)):
        reasons = rule_ids(policy, replace(facts, send_at=at))
        assert reasons == ([basis(Purpose.PROFILING)] if denied else []), at
    assert policy.holds_until(facts, end + timedelta(days=1)) == end


def test_the_basis_rule_applies_from_25_may_2018_local_time(policy: PolicyEngine) -> None:
    start = local_midnight(date(2018, 5, 25), "Europe/Paris")
    facts = data_use(Purpose.PROFILING, time_zones=("Europe/Paris",))
    assert policy.evaluate(replace(facts, send_at=start - SECOND)) == ()
    assert rule_ids(policy, replace(facts, send_at=start)) == [basis(Purpose.PROFILING)]


def test_sharing_by_a_us_customer_is_not_judged_by_the_gdpr(policy: PolicyEngine) -> None:
    notices = {"glba_initial": (SEND_AT - timedelta(days=40),)}
    us = data_use(Purpose.SHARE_THIRD_PARTIES, jurisdictions={"US-NY"}, notices=notices)
    assert policy.evaluate(us) == ()


@pytest.mark.parametrize("channel", [Channel.POST, Channel.PUSH])
def test_marketing_by_post_or_push_needs_nothing_on_record(
    policy: PolicyEngine, channel: Channel
) -> None:
    # Legitimate interests (Recital 47); an objection still stops it (Art 21).
    at = datetime(2024, 6, 3, 12, tzinfo=UTC)
    assert policy.evaluate(make_facts(jurisdictions={"DE"}, channel=channel, send_at=at)) == ()


# ePrivacy Art 13(1): automatic calling machines


AUTOMATED = "eprivacy.art13_1.automated_calls"


def test_an_automated_call_needs_consent_as_well(policy: PolicyEngine) -> None:
    robocall = call(automated=True)
    assert rule_ids(policy, robocall) == [AUTOMATED, CALLS]
    consenting = replace(robocall, consents={Purpose.MARKETING: granted()}, channel_status=OPTED_IN)
    assert policy.evaluate(consenting) == ()


def test_an_automated_call_to_spain_is_judged_by_lgtel_with_its_age(policy: PolicyEngine) -> None:
    spanish = call(jurisdictions={"ES"}, automated=True, lists=make_facts().lists)
    assert AUTOMATED not in rule_ids(policy, spanish)


@pytest.mark.parametrize(
    ("exception", "lifted"),
    [
        (LegalException.LEGAL_PROCESS, True),
        (LegalException.SERVICE_PROVIDER, True),
        (LegalException.FRAUD_SECURITY, True),
        (LegalException.JOINT_MARKETING, False),
        (LegalException.CORPORATE_TRANSACTION, False),
    ],
)
def test_a_disclosure_the_law_requires_needs_no_basis_on_record(
    policy: PolicyEngine, exception: LegalException, lifted: bool
) -> None:
    facts = data_use(Purpose.SHARE_THIRD_PARTIES, exception=exception)
    expected = [] if lifted else [basis(Purpose.SHARE_THIRD_PARTIES)]
    assert rule_ids(policy, facts) == expected


# A record's legal basis: consent where the rule needs consent, any where it needs a basis


def on_basis(legal_basis: str | None) -> ConsentFact:
    return ConsentFact(ConsentStatus.GRANTED, SEND_AT - timedelta(days=9), legal_basis=legal_basis)


@pytest.mark.parametrize(("legal_basis", "consent"), [(None, True), ("consent", True),
                                                     ("legitimate_interests", False),
                                                     ("contract", False)])  # fmt: skip
def test_only_a_record_on_consent_is_consent_to_email_or_call(
    policy: PolicyEngine, legal_basis: str | None, consent: bool
) -> None:
    marketing = {Purpose.MARKETING: on_basis(legal_basis)}
    email = make_facts(jurisdictions={"FR"}, consents=marketing, channel_status=OPTED_IN)
    phone = call(consents=marketing, channel_status=OPTED_IN)
    expected = [] if consent else ["eprivacy.art13_1.e_marketing_consent"]
    assert rule_ids(policy, email) == expected
    assert rule_ids(policy, phone) == ([] if consent else [CALLS])
    if not consent:
        (reason,) = policy.evaluate(email)
        assert f"rests on {legal_basis}, not on consent" in reason.message


@pytest.mark.parametrize("legal_basis", [None, "legitimate_interests", "contract"])
def test_a_record_on_any_basis_is_a_basis_for_a_data_use(
    policy: PolicyEngine, legal_basis: str | None
) -> None:
    facts = data_use(Purpose.PROFILING, consents={Purpose.PROFILING: on_basis(legal_basis)})
    assert policy.evaluate(facts) == ()
