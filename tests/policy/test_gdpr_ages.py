"""GDPR Art 8(1): a consent counts only if given at the age of consent where the customer
lives (16 in the EEA, or the state's lower age), on every EEA rule that reads a consent;
and in Spain, a consent given under 14 exempts from the Lista Robinson no more than it
allows anything else (LOPDGDD Art 7, 23.4)."""

from datetime import date

import pytest

from policy.engine import PolicyEngine
from policy.facts import ConsentFact, Facts, ListFact
from policy.jurisdictions import EEA_EFTA_STATES, EU_MEMBER_STATES
from policy.kinds.consents import AgeParams
from policy.vocabulary import Channel, ConsentStatus, Purpose
from tests.policy.factories import (
    DATA_USES,
    OPTED_IN,
    SEND_AT,
    bought,
    granted_at_age,
    make_facts,
)

E_MARKETING = "eprivacy.art13_1.e_marketing_consent"
CALLS = "eprivacy.art13_3.marketing_calls"
AUTOMATED = "eprivacy.art13_1.automated_calls"
ROBINSON = "lopdgdd.art23.lista_robinson"
ROBINSON_POST = "lopdgdd.art23.lista_robinson_post"

# Each state's age under Art 8(1), from the national acts (gdpr.toml's header cites them).
AGE_OF_CONSENT = {
    **dict.fromkeys(["BE", "DK", "EE", "FI", "LV", "MT", "PT", "SE", "IS", "NO"], 13),
    **dict.fromkeys(["AT", "BG", "CY", "ES", "IT", "LT"], 14),
    **dict.fromkeys(["CZ", "FR", "GR", "SI"], 15),
    **dict.fromkeys(["DE", "HR", "HU", "IE", "LI", "LU", "NL", "PL", "RO", "SK"], 16),
}


def rule_ids(policy: PolicyEngine, facts: Facts) -> set[str]:
    return {reason.rule for reason in policy.evaluate(facts)}


def email(place: str | set[str], age: int | None) -> Facts:
    places = {place} if isinstance(place, str) else place
    return make_facts(
        jurisdictions=places,
        consents={Purpose.MARKETING: granted_at_age(age)},
        channel_status=OPTED_IN,
    )


def test_the_table_names_every_eea_state_once() -> None:
    assert set(AGE_OF_CONSENT) == EU_MEMBER_STATES | EEA_EFTA_STATES


@pytest.mark.parametrize(("place", "age"), sorted(AGE_OF_CONSENT.items()))
def test_email_marketing_needs_consent_given_at_the_states_age(
    policy: PolicyEngine, place: str, age: int
) -> None:
    denied = policy.evaluate(email(place, age - 1))
    assert E_MARKETING in {reason.rule for reason in denied}
    (reason,) = [reason for reason in denied if reason.rule == E_MARKETING]
    assert f"given at age {age - 1}, younger than {age}" in reason.message
    assert "Art 8(1)" in reason.citation
    assert E_MARKETING not in rule_ids(policy, email(place, age))


@pytest.mark.parametrize("rule", [E_MARKETING, CALLS, AUTOMATED])
def test_every_eea_consent_rule_holds_the_same_ages(policy: PolicyEngine, rule: str) -> None:
    (found,) = [candidate for candidate in policy.rules if candidate.id == rule]
    assert isinstance(found.params, AgeParams)
    assert {place: found.params.min_age_for(frozenset({place})) for place in AGE_OF_CONSENT} == (
        AGE_OF_CONSENT
    )


def test_an_unknown_age_is_not_held_against_the_consent(policy: PolicyEngine) -> None:
    assert rule_ids(policy, email("DE", None)) == set()


def test_a_customer_of_several_states_is_held_to_the_highest_age(policy: PolicyEngine) -> None:
    assert E_MARKETING in rule_ids(policy, email({"BE", "DE"}, 15))
    assert E_MARKETING not in rule_ids(policy, email({"BE", "DE"}, 16))


def test_a_place_outside_the_eea_does_not_raise_the_age(policy: PolicyEngine) -> None:
    assert E_MARKETING not in rule_ids(policy, email({"BE", "US-CA"}, 13))


def test_a_code_that_names_no_place_does_not_hide_the_age(policy: PolicyEngine) -> None:
    # The unknown code denies on its own; the age is still judged, without a policy error.
    assert rule_ids(policy, email({"DE", "ZZ"}, 15)) == {
        "policy.unknown_jurisdiction",
        E_MARKETING,
    }


def test_an_outermost_region_takes_its_states_age(policy: PolicyEngine) -> None:
    # Guadeloupe is France in the EU: 15, not the EEA's 16.
    assert E_MARKETING not in rule_ids(policy, email("GP", 15))
    assert E_MARKETING in rule_ids(policy, email("GP", 14))


def test_the_soft_opt_in_does_not_depend_on_the_age_of_a_consent(policy: PolicyEngine) -> None:
    facts = make_facts(
        jurisdictions={"DE"},
        consents={Purpose.MARKETING: granted_at_age(12)},
        relationship=bought(),
    )
    assert E_MARKETING not in rule_ids(policy, facts)


@pytest.mark.parametrize(("automated", "rule"), [(False, CALLS), (True, AUTOMATED)])
def test_a_marketing_call_needs_consent_given_at_the_states_age(
    policy: PolicyEngine, automated: bool, rule: str
) -> None:
    def call(age: int) -> Facts:
        return make_facts(
            jurisdictions={"FR"},
            channel=Channel.PHONE,
            automated=automated,
            consents={Purpose.MARKETING: granted_at_age(age)},
            channel_status=OPTED_IN,
        )

    assert rule in rule_ids(policy, call(14))
    assert rule not in rule_ids(policy, call(15))


@pytest.mark.parametrize("purpose", DATA_USES)
def test_a_data_use_on_consent_needs_it_given_at_the_states_age(
    policy: PolicyEngine, purpose: Purpose
) -> None:
    def use(age: int) -> Facts:
        consent = {purpose: granted_at_age(age)}
        return make_facts(jurisdictions={"NL"}, channel=None, purpose=purpose, consents=consent)

    assert f"gdpr.art6.lawful_basis.{purpose}" in rule_ids(policy, use(15))
    assert rule_ids(policy, use(16)) == set()


@pytest.mark.parametrize("purpose", DATA_USES)
def test_a_data_use_on_another_basis_needs_no_age_of_consent(
    policy: PolicyEngine, purpose: Purpose
) -> None:
    record = ConsentFact(
        ConsentStatus.GRANTED, SEND_AT.replace(year=2020), age_at_capture=15, legal_basis="contract"
    )
    facts = make_facts(
        jurisdictions={"NL"}, channel=None, purpose=purpose, consents={purpose: record}
    )
    assert rule_ids(policy, facts) == set()


# Spain: a consent given under 14 is no consent "under this law" (LOPDGDD Art 23.4, Art 7)


def on_lista_robinson(age: int, **facts: object) -> Facts:
    """A Spanish customer on the Lista Robinson who bought from us last month."""
    fields = {
        "consents": {Purpose.MARKETING: granted_at_age(age)},
        "channel_status": OPTED_IN,
        "relationship": bought(SEND_AT.replace(month=5)),
        "lists": {"lista_robinson": ListFact(source_date=date(2024, 6, 1), listed=True)},
        **facts,
    }
    return make_facts(**fields)


def test_a_consent_given_at_13_does_not_exempt_from_the_lista_robinson(
    policy: PolicyEngine,
) -> None:
    # LGTel 66.1.b lets the call rest on the recent purchase; only the list stands in the way.
    facts = on_lista_robinson(13, channel=Channel.PHONE, automated=False)
    assert rule_ids(policy, facts) == {ROBINSON}
    assert rule_ids(policy, on_lista_robinson(14, channel=Channel.PHONE, automated=False)) == set()


def test_direct_mail_needs_consent_given_at_14(policy: PolicyEngine) -> None:
    assert ROBINSON_POST in rule_ids(policy, on_lista_robinson(13, channel=Channel.POST))
    assert rule_ids(policy, on_lista_robinson(14, channel=Channel.POST)) == set()
