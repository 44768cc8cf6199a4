"""The United Kingdom (uk.toml): PECR's e-mail and text rule with its soft opt-in (reg 22),
automated calls (reg 19), the Telephone Preference Service and the caller's own
do-not-call list for live calls (reg 21), and the UK GDPR's objection and lawful basis,
with its age of consent of 13. 2026-12-02 is a Wednesday.
"""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from policy.engine import NOT_COVERED, PolicyEngine
from policy.facts import ConsentFact, Facts, ListFact
from policy.vocabulary import Channel, ConsentStatus, Purpose
from tests.policy.factories import (
    LONG_AGO,
    OPTED_IN,
    bought,
    granted,
    granted_at_age,
    inquired,
    make_facts,
    objected,
    rule_ids,
    withdrawn,
)

E_MARKETING = "pecr.reg22.e_marketing_consent"
AUTOMATED = "pecr.reg19.automated_calls"
TPS = "pecr.reg21.tps"
INTERNAL = "pecr.reg21.internal_dnc"
OBJECTION = "uk_gdpr.art21.marketing_objection"
NOON = datetime(2026, 12, 2, 12, tzinfo=UTC)


def lists(copied: date, **listed: bool) -> dict[str, ListFact]:
    names = ("uk_tps", "internal_dnc")
    return {name: ListFact(source_date=copied, listed=listed.get(name, False)) for name in names}


def message(**facts: object) -> Facts:
    """A marketing e-mail to a customer in the UK, nothing on record."""
    fields: dict[str, object] = {"jurisdictions": {"GB"}, "send_at": NOON}
    return make_facts(**(fields | facts))


def call(**facts: object) -> Facts:
    """A marketing call dialled by hand to a customer in England, the lists copied today."""
    fields: dict[str, object] = {
        "jurisdictions": {"GB-ENG"},
        "channel": Channel.PHONE,
        "send_at": NOON,
        "time_zones": ("Europe/London",),
        "automated": False,
        "lists": lists(NOON.date()),
    }
    return make_facts(**(fields | facts))


# Reg 22: e-mail and texts need consent, or a purchase while nothing was refused


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.SMS])
def test_e_marketing_needs_consent_and_the_channel_opted_in(
    policy: PolicyEngine, channel: Channel
) -> None:
    assert rule_ids(policy, message(channel=channel)) == [E_MARKETING]
    consenting = message(channel=channel, consents={Purpose.MARKETING: granted()})
    assert rule_ids(policy, consenting) == [E_MARKETING]
    assert rule_ids(policy, replace(consenting, channel_status=OPTED_IN)) == []


def test_the_soft_opt_in_holds_after_a_purchase_until_a_refusal(policy: PolicyEngine) -> None:
    customer = message(relationship=bought())
    assert rule_ids(policy, customer) == []
    refused = replace(customer, consents={Purpose.MARKETING: withdrawn()})
    assert rule_ids(policy, refused) == [E_MARKETING]


def test_an_inquiry_is_not_read_as_negotiations_for_a_sale(policy: PolicyEngine) -> None:
    assert rule_ids(policy, message(relationship=inquired())) == [E_MARKETING]


@pytest.mark.parametrize(("age", "denied"), [(12, [E_MARKETING]), (13, []), (None, [])])
def test_a_consent_counts_from_13(policy: PolicyEngine, age: int | None, denied: list[str]) -> None:
    facts = message(consents={Purpose.MARKETING: granted_at_age(age)}, channel_status=OPTED_IN)
    assert rule_ids(policy, facts) == denied


def test_post_and_push_marketing_need_nothing_on_record(policy: PolicyEngine) -> None:
    for channel in (Channel.POST, Channel.PUSH):
        assert rule_ids(policy, message(channel=channel)) == []


def test_pecr_applies_from_11_december_2003(policy: PolicyEngine) -> None:
    before = datetime(2003, 12, 10, 12, tzinfo=UTC)
    assert E_MARKETING not in rule_ids(
        policy, message(send_at=before, time_zones=("Europe/London",))
    )
    first_day = before + timedelta(days=1)
    assert E_MARKETING in rule_ids(
        policy, message(send_at=first_day, time_zones=("Europe/London",))
    )


# Reg 19 and 21: automated calls need consent; live calls leave out the TPS and our own list


def test_an_automated_call_needs_consent(policy: PolicyEngine) -> None:
    assert rule_ids(policy, call(automated=True)) == [AUTOMATED]
    consenting = call(
        automated=True, consents={Purpose.MARKETING: granted()}, channel_status=OPTED_IN
    )
    assert rule_ids(policy, consenting) == []


def test_a_live_call_to_a_number_clear_of_the_tps_needs_no_consent(policy: PolicyEngine) -> None:
    assert rule_ids(policy, call()) == []


def test_a_number_on_the_tps_is_not_called_unless_its_subscriber_consented(
    policy: PolicyEngine,
) -> None:
    listed = call(lists=lists(NOON.date(), uk_tps=True))
    assert rule_ids(policy, listed) == [TPS]
    assert rule_ids(policy, replace(listed, consents={Purpose.MARKETING: granted()})) == []
    young = {Purpose.MARKETING: granted_at_age(12)}
    assert rule_ids(policy, replace(listed, consents=young)) == [TPS]


@pytest.mark.parametrize(("age_in_days", "denied"), [(28, []), (29, [f"{TPS}.copy_stale"])])
def test_the_tps_copy_may_be_28_days_old(
    policy: PolicyEngine, age_in_days: int, denied: list[str]
) -> None:
    """Reg 21(3): a number listed for under 28 days does not bind yet, so a copy of 28 days
    holds every number that does; one of 29 may lack one listed the day after it."""
    copied = NOON.date() - timedelta(days=age_in_days)
    assert rule_ids(policy, call(lists=lists(copied))) == denied


def test_no_tps_copy_loaded_denies_a_live_call(policy: PolicyEngine) -> None:
    only_ours = {"internal_dnc": ListFact(source_date=NOON.date(), listed=False)}
    assert rule_ids(policy, call(lists=only_ours)) == [f"{TPS}.copy_missing"]


def test_a_number_on_our_own_list_is_not_called_even_with_an_old_consent(
    policy: PolicyEngine,
) -> None:
    ours = call(
        lists=lists(NOON.date(), internal_dnc=True), consents={Purpose.MARKETING: granted()}
    )
    assert rule_ids(policy, ours) == [INTERNAL]


# UK GDPR: the objection, the lawful basis of data uses, and places it does not reach


def test_an_objection_stops_every_marketing_contact_and_profiling(policy: PolicyEngine) -> None:
    refusal = {Purpose.MARKETING: objected()}
    for facts in (message(channel=Channel.POST), call(), message(channel=Channel.PUSH)):
        assert OBJECTION in rule_ids(policy, replace(facts, consents=refusal))


@pytest.mark.parametrize(
    "purpose", [Purpose.PROFILING, Purpose.SHARE_AFFILIATES, Purpose.SHARE_THIRD_PARTIES]
)
def test_a_data_use_needs_a_basis_on_record_of_any_kind(
    policy: PolicyEngine, purpose: Purpose
) -> None:
    use = message(channel=None, purpose=purpose)
    assert rule_ids(policy, use) == [f"uk_gdpr.art6.lawful_basis.{purpose}"]
    basis = ConsentFact(ConsentStatus.GRANTED, LONG_AGO, legal_basis="legitimate_interests")
    assert rule_ids(policy, replace(use, consents={purpose: basis})) == []


def test_jersey_is_not_the_uk(policy: PolicyEngine) -> None:
    assert rule_ids(policy, message(jurisdictions={"JE"})) == [NOT_COVERED]
