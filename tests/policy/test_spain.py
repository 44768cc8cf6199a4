"""Spain: LSSI Art 21 (commercial email and SMS, with the soft opt-in of Art 21.2), LGTel
Art 66.1.b (marketing calls from 2023-06-29) and the age of consent of LOPDGDD Art 7.

Each period edge and effective date one second before, at and after.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from policy.engine import PolicyEngine
from policy.facts import ConsentFact, Facts, ListFact
from policy.reasons import Reason
from policy.vocabulary import Channel, ConsentStatus, PreferenceStatus, Purpose
from tests.policy.factories import (
    LONG_AGO,
    OPTED_IN,
    SEND_AT,
    bought,
    clear_of,
    granted,
    granted_at_age,
    inquired,
    local_midnight,
    make_facts,
    objected,
    withdrawn,
)

EPRIVACY = "eprivacy.art13_1.e_marketing_consent"
GDPR_OBJECTION = "gdpr.art21.marketing_objection"
LSSI = "lssi.art21.e_marketing_consent"
LSSI_2002 = "lssi.art21.e_marketing_consent_2002"
LGTEL = "lgtel.art66_1_b.marketing_calls"
SECOND = timedelta(seconds=1)
OPTED_OUT = PreferenceStatus.OPTED_OUT
# Effective dates are the customer's local dates: these tests put the customer in Madrid.
MADRID = "Europe/Madrid"
IN_MADRID: dict[str, object] = {"time_zones": (MADRID,)}


def spanish(**facts: object) -> Facts:
    """Email marketing to a customer in Spain who is not on the Lista Robinson copy loaded."""
    return make_facts(**{"lists": clear_of("lista_robinson"), **facts})


def rules(policy: PolicyEngine, **facts: object) -> list[str]:
    return [reason.rule for reason in policy.evaluate(spanish(**facts))]


def reason_of(policy: PolicyEngine, rule: str, **facts: object) -> Reason:
    (found,) = [r for r in policy.evaluate(spanish(**facts)) if r.rule == rule]
    return found


def call(**facts: object) -> dict[str, object]:
    """A marketing call dialled by hand to a customer in Spain (automated calls: below)."""
    return {"channel": Channel.PHONE, "automated": False, **facts}


# LSSI Art 21: commercial email and SMS


def test_spain_email_marketing_without_consent_is_denied_by_lssi_and_eprivacy(
    policy: PolicyEngine,
) -> None:
    assert rules(policy, channel_status=OPTED_IN) == [EPRIVACY, LSSI]
    reason = reason_of(policy, LSSI, channel_status=OPTED_IN)
    assert reason.regime == "LSSI"
    assert reason.citation == "Ley 34/2002 (LSSI) Art 21.1-21.2; LO 3/2018 (LOPDGDD) Art 7"
    assert reason.message.startswith("Commercial email or SMS to a customer in Spain")
    assert "No consent recorded for marketing" in reason.message
    assert "no purchase on record before the send time" in reason.message


def test_spain_email_marketing_with_consent_and_opt_in_is_allowed(policy: PolicyEngine) -> None:
    assert rules(policy, consents={Purpose.MARKETING: granted()}, channel_status=OPTED_IN) == []


def test_spain_sms_marketing_with_consent_but_never_asked_about_sms_is_denied(
    policy: PolicyEngine,
) -> None:
    facts = {"channel": Channel.SMS, "consents": {Purpose.MARKETING: granted()}}
    assert rules(policy, **facts) == [EPRIVACY, LSSI]


def test_spain_soft_opt_in_allows_email_to_a_customer_who_bought(policy: PolicyEngine) -> None:
    assert rules(policy, relationship=bought()) == []


def test_spain_soft_opt_in_allows_sms_to_a_customer_who_bought(policy: PolicyEngine) -> None:
    assert rules(policy, channel=Channel.SMS, relationship=bought()) == []


def test_spain_soft_opt_in_needs_a_purchase_not_an_inquiry(policy: PolicyEngine) -> None:
    assert rules(policy, relationship=inquired()) == [EPRIVACY, LSSI]


def test_spain_soft_opt_in_counts_a_purchase_up_to_the_send_time(policy: PolicyEngine) -> None:
    assert rules(policy, relationship=bought(SEND_AT - SECOND)) == []
    assert rules(policy, relationship=bought(SEND_AT)) == []
    assert rules(policy, relationship=bought(SEND_AT + SECOND)) == [EPRIVACY, LSSI]


def test_spain_soft_opt_in_ends_when_the_customer_withdrew_marketing(
    policy: PolicyEngine,
) -> None:
    facts = {"relationship": bought(), "consents": {Purpose.MARKETING: withdrawn()}}
    assert rules(policy, **facts) == [EPRIVACY, LSSI]
    assert "once the customer refused marketing" in reason_of(policy, LSSI, **facts).message


def test_spain_soft_opt_in_ends_when_the_customer_opted_out_of_the_channel(
    policy: PolicyEngine,
) -> None:
    facts = {"relationship": bought(), "channel_status": OPTED_OUT}
    assert rules(policy, **facts) == [EPRIVACY, LSSI]
    assert "opted out of the channel" in reason_of(policy, LSSI, **facts).message


def test_spain_soft_opt_in_ends_with_an_objection_and_every_reason_is_listed(
    policy: PolicyEngine,
) -> None:
    facts = {"relationship": bought(), "consents": {Purpose.MARKETING: objected()}}
    assert rules(policy, **facts) == [EPRIVACY, GDPR_OBJECTION, LSSI]


def test_lssi_applies_only_in_spain(policy: PolicyEngine) -> None:
    assert rules(policy, jurisdictions={"FR"}, channel_status=OPTED_IN) == [EPRIVACY]


def test_lssi_applies_to_a_customer_in_a_spanish_region(policy: PolicyEngine) -> None:
    assert rules(policy, jurisdictions={"ES-MD"}, channel_status=OPTED_IN) == [EPRIVACY, LSSI]


def test_lssi_does_not_judge_service_messages(policy: PolicyEngine) -> None:
    assert rules(policy, purpose=Purpose.SERVICE) == []


def test_lssi_original_text_applies_from_12_october_2002(policy: PolicyEngine) -> None:
    start = local_midnight(date(2002, 10, 12), MADRID)  # 22:00 UTC on 11 October (CEST)
    assert rules(policy, send_at=start - SECOND, **IN_MADRID) == []
    assert rules(policy, send_at=start, **IN_MADRID) == [LSSI_2002]
    assert rules(policy, send_at=start + SECOND, **IN_MADRID) == [LSSI_2002]


def test_lssi_original_text_had_no_soft_opt_in(policy: PolicyEngine) -> None:
    at = local_midnight(date(2003, 11, 5), MADRID) - SECOND  # 23:59:59 on 4 November
    facts = {"send_at": at, "relationship": bought(datetime(2003, 1, 1, tzinfo=UTC))}
    # ePrivacy Art 13(2) already applied (from 31 October 2003); Spain's text did not yet.
    assert rules(policy, **facts, **IN_MADRID) == [LSSI_2002]


def test_lssi_soft_opt_in_applies_from_5_november_2003(policy: PolicyEngine) -> None:
    start = local_midnight(date(2003, 11, 5), MADRID)  # 23:00 UTC on 4 November (CET)
    facts = {"relationship": bought(datetime(2003, 1, 1, tzinfo=UTC)), **IN_MADRID}
    assert rules(policy, send_at=start - SECOND, **facts) == [LSSI_2002]
    assert rules(policy, send_at=start, **facts) == []
    assert rules(policy, send_at=start + SECOND, **facts) == []


def test_lssi_current_text_replaces_the_original_on_5_november_2003(
    policy: PolicyEngine,
) -> None:
    start = local_midnight(date(2003, 11, 5), MADRID)
    assert rules(policy, send_at=start - SECOND, **IN_MADRID) == [EPRIVACY, LSSI_2002]
    assert rules(policy, send_at=start, **IN_MADRID) == [EPRIVACY, LSSI]
    assert rules(policy, send_at=start + SECOND, **IN_MADRID) == [EPRIVACY, LSSI]


# LOPDGDD Art 7: consent from 14


def test_spain_consent_given_at_13_does_not_count(policy: PolicyEngine) -> None:
    facts = {"consents": {Purpose.MARKETING: granted_at_age(13)}, "channel_status": OPTED_IN}
    # Spain's age binds under LSSI, and under ePrivacy through GDPR Art 8(1).
    assert sorted(rules(policy, **facts)) == [EPRIVACY, LSSI]
    assert "given at age 13, younger than 14" in reason_of(policy, LSSI, **facts).message


def test_spain_consent_given_at_14_counts(policy: PolicyEngine) -> None:
    facts = {"consents": {Purpose.MARKETING: granted_at_age(14)}, "channel_status": OPTED_IN}
    assert rules(policy, **facts) == []


def test_spain_consent_given_at_an_unknown_age_counts(policy: PolicyEngine) -> None:
    facts = {"consents": {Purpose.MARKETING: granted_at_age(None)}, "channel_status": OPTED_IN}
    assert rules(policy, **facts) == []


def test_spain_soft_opt_in_does_not_depend_on_the_age_of_a_consent(
    policy: PolicyEngine,
) -> None:
    facts = {"consents": {Purpose.MARKETING: granted_at_age(13)}, "relationship": bought()}
    assert rules(policy, **facts) == []


def test_spain_marketing_call_on_consent_given_at_13_is_denied(policy: PolicyEngine) -> None:
    facts = call(consents={Purpose.MARKETING: granted_at_age(13)}, channel_status=OPTED_IN)
    assert rules(policy, **facts) == [LGTEL]


# LGTel Art 66.1.b: marketing calls


def test_spain_marketing_call_without_consent_is_denied_by_lgtel(policy: PolicyEngine) -> None:
    assert rules(policy, **call()) == [LGTEL]
    reason = reason_of(policy, LGTEL, **call())
    assert reason.regime == "LGTel"
    assert reason.citation.startswith("Ley 11/2022 (LGTel) Art 66.1.b); AEPD Circular 1/2023")
    assert reason.message.startswith("Marketing calls to a customer in Spain need")
    assert reason.earliest_allowed_at is None


def test_spain_marketing_call_with_consent_and_phone_opted_in_is_allowed(
    policy: PolicyEngine,
) -> None:
    facts = call(consents={Purpose.MARKETING: granted()}, channel_status=OPTED_IN)
    assert rules(policy, **facts) == []


def test_spain_marketing_call_with_consent_but_never_asked_about_calls_is_denied(
    policy: PolicyEngine,
) -> None:
    assert rules(policy, **call(consents={Purpose.MARKETING: granted()})) == [LGTEL]


def test_lgtel_applies_from_29_june_2023(policy: PolicyEngine) -> None:
    start = local_midnight(date(2023, 6, 29), MADRID)  # 22:00 UTC on 28 June (CEST)
    assert rules(policy, **call(send_at=start - SECOND, **IN_MADRID)) == []
    assert rules(policy, **call(send_at=start, **IN_MADRID)) == [LGTEL]
    assert rules(policy, **call(send_at=start + SECOND, **IN_MADRID)) == [LGTEL]


def test_lgtel_allows_calls_to_a_customer_for_a_year_after_a_purchase(
    policy: PolicyEngine,
) -> None:
    purchase = datetime(2024, 2, 29, 15, tzinfo=UTC)
    year_later = datetime(2025, 2, 28, 15, tzinfo=UTC)  # P1Y on the calendar from 29 Feb
    relationship = bought(purchase)
    assert rules(policy, **call(send_at=year_later - SECOND, relationship=relationship)) == []
    assert rules(policy, **call(send_at=year_later, relationship=relationship)) == []
    assert rules(policy, **call(send_at=year_later + SECOND, relationship=relationship)) == [LGTEL]


def test_lgtel_relationship_reason_says_when_the_year_ended(policy: PolicyEngine) -> None:
    facts = call(relationship=bought(datetime(2023, 1, 10, 9, tzinfo=UTC)))
    assert "its P1Y window ended at 2024-01-10T09:00:00+00:00" in (
        reason_of(policy, LGTEL, **facts).message
    )


def test_lgtel_does_not_count_an_inquiry_without_a_purchase(policy: PolicyEngine) -> None:
    assert rules(policy, **call(relationship=inquired(SEND_AT - timedelta(days=3)))) == [LGTEL]


def test_lgtel_relationship_ends_with_an_objection(policy: PolicyEngine) -> None:
    facts = call(
        relationship=bought(SEND_AT - timedelta(days=30)),
        consents={Purpose.MARKETING: objected()},
    )
    assert rules(policy, **facts) == [GDPR_OBJECTION, LGTEL]


def test_lgtel_does_not_judge_sms(policy: PolicyEngine) -> None:
    facts = {"channel": Channel.SMS, "consents": {Purpose.MARKETING: granted()}}
    assert LGTEL not in rules(policy, **facts)


# LGTel Art 66.1.a: automated calls, consent only


LGTEL_AUTOMATED = "lgtel.art66_1_a.automated_calls"


def robocall(**facts: object) -> dict[str, object]:
    """A marketing call by an autodialer or a recorded voice to a customer in Madrid."""
    return call(automated=True, **IN_MADRID, **facts)


def test_an_automated_call_on_a_recent_purchase_is_denied(policy: PolicyEngine) -> None:
    recent = bought(SEND_AT - timedelta(days=30))
    assert rules(policy, **call(relationship=recent)) == []  # dialled by hand: LGTel 66.1.b
    assert rules(policy, **robocall(relationship=recent)) == [LGTEL_AUTOMATED]


@pytest.mark.parametrize(("age", "allowed"), [(13, False), (14, True), (None, True)])
def test_an_automated_call_needs_consent_given_at_14(
    policy: PolicyEngine, age: int | None, allowed: bool
) -> None:
    consent = {Purpose.MARKETING: granted_at_age(age)}
    found = rules(policy, **robocall(consents=consent, channel_status=OPTED_IN))
    assert (LGTEL_AUTOMATED not in found) is allowed


def test_the_automated_call_rule_applies_from_30_june_2022(policy: PolicyEngine) -> None:
    start = local_midnight(date(2022, 6, 30), MADRID)
    assert rules(policy, **robocall(send_at=start - SECOND)) == []
    assert rules(policy, **robocall(send_at=start)) == [LGTEL_AUTOMATED]


# Lista Robinson by post: no postal entry can be looked up, so consent to us is needed


ROBINSON_POST = "lopdgdd.art23.lista_robinson_post"


def letter(**facts: object) -> dict[str, object]:
    return {"channel": Channel.POST, **IN_MADRID, **facts}


def test_direct_mail_without_consent_is_denied(policy: PolicyEngine) -> None:
    assert rules(policy, **letter()) == [ROBINSON_POST]
    assert rules(policy, **letter(relationship=bought(SEND_AT - timedelta(days=3)))) == [
        ROBINSON_POST
    ]


def test_direct_mail_with_consent_to_us_is_allowed(policy: PolicyEngine) -> None:
    assert rules(policy, **letter(consents={Purpose.MARKETING: granted()})) == []
    refused = letter(consents={Purpose.MARKETING: withdrawn(SEND_AT - timedelta(days=1))})
    assert rules(policy, **refused) == [ROBINSON_POST]


def test_direct_mail_rule_applies_from_7_december_2018(policy: PolicyEngine) -> None:
    start = local_midnight(date(2018, 12, 7), MADRID)
    assert rules(policy, **letter(send_at=start - SECOND)) == []
    assert rules(policy, **letter(send_at=start)) == [ROBINSON_POST]


def test_a_record_of_legitimate_interests_does_not_exempt_from_the_lista_robinson(
    policy: PolicyEngine,
) -> None:
    interests = ConsentFact(ConsentStatus.GRANTED, LONG_AGO, legal_basis="legitimate_interests")
    listed = {"lista_robinson": ListFact(SEND_AT.date(), listed=True)}
    found = rules(policy, **letter(consents={Purpose.MARKETING: interests}))
    assert found == [ROBINSON_POST]
    call_found = rules(
        policy, **call(consents={Purpose.MARKETING: interests}, channel_status=OPTED_IN,
                       relationship=bought(SEND_AT - timedelta(days=3)), lists=listed)
    )  # fmt: skip
    assert call_found == ["lopdgdd.art23.lista_robinson"]
