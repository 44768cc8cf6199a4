import shutil
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from policy.engine import (
    NOT_COVERED,
    POLICY_ERROR,
    UNKNOWN_JURISDICTION,
    Explanation,
    PolicyEngine,
)
from policy.facts import Facts, ListFact, PastContact
from policy.kinds.consents import ConsentParams
from policy.reasons import Reason
from policy.requirements import REQUIREMENTS, Requirement, RequirementKind
from policy.vocabulary import Channel, DataCategory, Purpose
from tests.policy.factories import (
    OPTED_IN,
    POLICIES,
    SEND_AT,
    granted,
    local_midnight,
    make_facts,
    objected,
    withdrawn,
)

EPRIVACY = "eprivacy.art13_1.e_marketing_consent"
GDPR_OBJECTION = "gdpr.art21.marketing_objection"
GLBA_OPT_OUT = "glba.opt_out.third_party_sharing"
GLBA_NOTICE = "glba.initial_notice.opt_out_window"
GLBA_ANNUAL = "glba.annual_notice"
# An EU member state with no national pack, so that only the EU rules judge (ES has its own).
FRANCE = {"FR"}
SECOND = timedelta(seconds=1)
MADRID = "Europe/Madrid"


def rule_ids(reasons: tuple[Reason, ...]) -> list[str]:
    return [reason.rule for reason in reasons]


def explained(engine: PolicyEngine, facts: Facts, rule_id: str) -> Explanation:
    (found,) = [e for e in engine.explain(facts) if e.rule.id == rule_id]
    return found


def sharing(**overrides: object) -> dict[str, object]:
    """A US data-use check: share with nonaffiliated third parties, no channel."""
    fields: dict[str, object] = {
        "jurisdictions": {"US-NY"},
        "channel": None,
        "purpose": Purpose.SHARE_THIRD_PARTIES,
        "notices": {"glba_initial": (SEND_AT - timedelta(days=40),)},
    }
    fields.update(overrides)
    return fields


def test_the_packs_hold_the_rules_we_encode_in_file_order(policy: PolicyEngine) -> None:
    ids = [rule.id for rule in policy.rules]
    encoded = [EPRIVACY, GDPR_OBJECTION, GLBA_OPT_OUT, GLBA_NOTICE, "tcpa.calling_hours"]
    encoded += [f"us_{state}.calling_hours" for state in ("fl", "ok", "md")]
    assert [rule_id for rule_id in ids if rule_id in encoded] == encoded
    sources = [rule.source for rule in policy.rules]
    assert sources == sorted(sources), "packs load in file-name order, rules in file order"


def test_eu_email_marketing_without_consent_is_denied_by_eprivacy(policy: PolicyEngine) -> None:
    (reason,) = policy.evaluate(make_facts(jurisdictions=FRANCE, channel_status=OPTED_IN))
    assert reason.rule == EPRIVACY
    assert reason.regime == "ePrivacy"
    assert reason.citation == "Directive 2002/58/EC Art 13(1); GDPR (EU) 2016/679 Art 8(1)"
    assert "No consent recorded for marketing" in reason.message


def test_eu_email_marketing_with_consent_and_opt_in_is_allowed(policy: PolicyEngine) -> None:
    facts = make_facts(consents={Purpose.MARKETING: granted()}, channel_status=OPTED_IN)
    assert policy.evaluate(facts) == ()


def test_eu_sms_marketing_with_consent_but_never_asked_about_sms_is_denied(
    policy: PolicyEngine,
) -> None:
    facts = make_facts(
        jurisdictions=FRANCE, channel=Channel.SMS, consents={Purpose.MARKETING: granted()}
    )
    assert rule_ids(policy.evaluate(facts)) == [EPRIVACY]


def test_norwegian_email_marketing_needs_consent_too(policy: PolicyEngine) -> None:
    assert rule_ids(policy.evaluate(make_facts(jurisdictions={"NO"}))) == [EPRIVACY]


def test_us_customer_is_not_subject_to_eprivacy(policy: PolicyEngine) -> None:
    assert policy.evaluate(make_facts(jurisdictions={"US-FL"})) == ()


def test_eu_marketing_by_post_is_not_under_the_e_marketing_rule(policy: PolicyEngine) -> None:
    assert policy.evaluate(make_facts(jurisdictions=FRANCE, channel=Channel.POST)) == ()


def test_service_messages_are_not_marketing(policy: PolicyEngine) -> None:
    assert policy.evaluate(make_facts(purpose=Purpose.SERVICE)) == ()


def test_objection_to_marketing_denies_profiling_in_the_eu(policy: PolicyEngine) -> None:
    consents = {Purpose.MARKETING: objected(), Purpose.PROFILING: granted()}
    facts = make_facts(channel=None, purpose=Purpose.PROFILING, consents=consents)
    (reason,) = policy.evaluate(facts)
    assert (reason.rule, reason.regime) == (GDPR_OBJECTION, "GDPR")
    assert reason.citation == "GDPR (EU) 2016/679 Art 21(2)-(3)"


def test_objection_to_marketing_denies_marketing_on_every_channel(policy: PolicyEngine) -> None:
    facts = make_facts(
        jurisdictions=FRANCE, channel=Channel.POST, consents={Purpose.MARKETING: objected()}
    )
    assert rule_ids(policy.evaluate(facts)) == [GDPR_OBJECTION]


def test_objection_and_missing_opt_in_are_both_reported(policy: PolicyEngine) -> None:
    facts = make_facts(jurisdictions=FRANCE, consents={Purpose.MARKETING: objected()})
    assert rule_ids(policy.evaluate(facts)) == [EPRIVACY, GDPR_OBJECTION]


def test_glba_opt_out_denies_sharing(policy: PolicyEngine) -> None:
    facts = make_facts(**sharing(consents={Purpose.SHARE_THIRD_PARTIES: withdrawn()}))
    (reason,) = policy.evaluate(facts)
    assert (reason.rule, reason.regime) == (GLBA_OPT_OUT, "GLBA")
    assert reason.earliest_allowed_at is None


def test_glba_sharing_after_the_notice_window_without_opt_out_is_allowed(
    policy: PolicyEngine,
) -> None:
    assert policy.evaluate(make_facts(**sharing())) == ()


def test_data_use_check_with_no_channel_still_gets_glba_rules(policy: PolicyEngine) -> None:
    facts = make_facts(**sharing(notices={}))
    assert rule_ids(policy.evaluate(facts)) == [GLBA_NOTICE, GLBA_ANNUAL]


def test_glba_rules_apply_to_sharing_checks_on_a_channel_too(policy: PolicyEngine) -> None:
    facts = make_facts(**sharing(channel=Channel.POST, notices={}))
    assert rule_ids(policy.evaluate(facts)) == [GLBA_NOTICE, GLBA_ANNUAL]


def test_glba_sharing_denied_one_second_before_30_days_after_initial_notice(
    policy: PolicyEngine,
) -> None:
    notice = {"glba_initial": (SEND_AT - timedelta(days=30),)}
    (reason,) = policy.evaluate(make_facts(**sharing(notices=notice, send_at=SEND_AT - SECOND)))
    assert reason.rule == GLBA_NOTICE
    assert reason.earliest_allowed_at == SEND_AT
    assert policy.evaluate(make_facts(**sharing(notices=notice, send_at=SEND_AT))) == ()


def test_eu_customer_is_not_subject_to_glba(policy: PolicyEngine) -> None:
    # A basis on record for the sharing (GDPR Art 6(1)); no GLBA notice, which is not needed.
    basis = {Purpose.SHARE_THIRD_PARTIES: granted()}
    facts = make_facts(**sharing(jurisdictions={"ES"}, notices={}, consents=basis))
    assert policy.evaluate(facts) == ()


def test_gdpr_objection_rule_does_not_apply_before_25_may_2018(policy: PolicyEngine) -> None:
    start = local_midnight(date(2018, 5, 25), MADRID)  # 22:00 UTC on 24 May (CEST)
    facts = make_facts(
        channel=None,
        purpose=Purpose.PROFILING,
        consents={
            Purpose.MARKETING: objected(captured_at=datetime(2018, 1, 1, tzinfo=UTC)),
            Purpose.PROFILING: granted(captured_at=datetime(2018, 1, 1, tzinfo=UTC)),
        },
        time_zones=(MADRID,),
        send_at=start - SECOND,
    )
    assert policy.evaluate(facts) == ()
    assert rule_ids(policy.evaluate(replace(facts, send_at=start))) == [GDPR_OBJECTION]
    assert rule_ids(policy.evaluate(replace(facts, send_at=start + SECOND))) == [GDPR_OBJECTION]


def test_the_effective_date_is_the_customers_local_date(policy: PolicyEngine) -> None:
    # 22:30 UTC on 24 May 2018 is still 24 May in UTC and in the Canary Islands (WEST,
    # UTC+1), but already 25 May in Madrid (CEST, UTC+2), where the GDPR applied by then.
    facts = make_facts(
        channel=None,
        purpose=Purpose.PROFILING,
        consents={
            Purpose.MARKETING: objected(captured_at=datetime(2018, 1, 1, tzinfo=UTC)),
            Purpose.PROFILING: granted(captured_at=datetime(2018, 1, 1, tzinfo=UTC)),
        },
        send_at=datetime(2018, 5, 24, 22, 30, tzinfo=UTC),
        time_zones=(MADRID,),
    )
    assert rule_ids(policy.evaluate(facts)) == [GDPR_OBJECTION]
    assert policy.evaluate(replace(facts, time_zones=("Atlantic/Canary",))) == ()


def test_eprivacy_does_not_apply_before_31_october_2003(policy: PolicyEngine) -> None:
    before = make_facts(jurisdictions=FRANCE, send_at=datetime(2003, 10, 30, tzinfo=UTC))
    assert policy.evaluate(before) == ()
    on_the_day = replace(before, send_at=datetime(2003, 10, 31, tzinfo=UTC))
    assert rule_ids(policy.evaluate(on_the_day)) == [EPRIVACY]


def test_a_rule_stops_applying_on_its_effective_until_date(tmp_path: Path) -> None:
    text = (POLICIES / "gdpr.toml").read_text(encoding="utf-8")
    ended = text.replace(
        "effective_from = 2003-10-31", "effective_from = 2003-10-31\neffective_until = 2024-06-03"
    )
    (tmp_path / "gdpr.toml").write_text(ended, encoding="utf-8")
    engine = PolicyEngine.load(tmp_path)
    # It ends at midnight in Madrid (22:00 UTC on 2 June, CEST), the customer's local date.
    end = local_midnight(date(2024, 6, 3), MADRID)
    in_madrid = {"time_zones": (MADRID,)}
    assert rule_ids(engine.evaluate(make_facts(send_at=end - SECOND, **in_madrid))) == [EPRIVACY]
    assert engine.evaluate(make_facts(send_at=end, **in_madrid)) == ()
    assert engine.evaluate(make_facts(send_at=end + SECOND, **in_madrid)) == ()
    assert explained(engine, make_facts(send_at=end, **in_madrid), EPRIVACY).why == (
        "not in force on 2024-06-03 (customer's local date): "
        "in force from 2003-10-31 until before 2024-06-03"
    )


def test_a_customer_with_an_unknown_jurisdiction_is_denied(policy: PolicyEngine) -> None:
    (reason,) = policy.evaluate(make_facts(jurisdictions={"XX"}))
    assert reason.rule == UNKNOWN_JURISDICTION
    assert "'XX'" in reason.message


def test_an_unknown_jurisdiction_beside_a_known_one_still_denies(policy: PolicyEngine) -> None:
    facts = make_facts(jurisdictions={"US", "XX"})
    assert rule_ids(policy.evaluate(facts)) == [UNKNOWN_JURISDICTION]


def test_a_customer_with_no_jurisdiction_is_denied_where_law_governs(
    policy: PolicyEngine,
) -> None:
    assert rule_ids(policy.evaluate(make_facts(jurisdictions=set()))) == [UNKNOWN_JURISDICTION]


def test_an_unknown_jurisdiction_does_not_block_what_no_law_governs(
    policy: PolicyEngine,
) -> None:
    assert policy.evaluate(make_facts(jurisdictions=set(), purpose=Purpose.SERVICE)) == ()


@pytest.mark.parametrize("place", ["JE", "CH", "BR", "AU-NSW"])
def test_a_place_no_pack_covers_is_denied_not_read_as_a_place_without_law(
    policy: PolicyEngine, place: str
) -> None:
    """Marketing email to a customer in the United Kingdom was allowed with no consent
    while no pack named it, and no rule applied: a place whose law is not loaded (Jersey's,
    Switzerland's) is not a place without law."""
    (reason,) = policy.evaluate(make_facts(jurisdictions={place}))
    assert reason.rule == NOT_COVERED
    assert f"jurisdiction {place!r}" in reason.message


def test_an_uncovered_place_beside_a_covered_one_still_denies(policy: PolicyEngine) -> None:
    consented = {"consents": {Purpose.MARKETING: granted()}, "channel_status": OPTED_IN}
    both = make_facts(jurisdictions={"ES", "CH"}, **consented)
    assert rule_ids(policy.evaluate(both)) == [NOT_COVERED]
    assert policy.evaluate(make_facts(jurisdictions={"ES"}, **consented)) == ()


@pytest.mark.parametrize("place", ["ES-MD", "US-TX", "CA-QC", "NO", "EU", "FR-971"])
def test_a_place_covered_through_its_country_or_group_is_covered(
    policy: PolicyEngine, place: str
) -> None:
    facts = make_facts(jurisdictions={place}, purpose=Purpose.PROFILING, channel=None)
    assert NOT_COVERED not in rule_ids(policy.evaluate(facts))


def test_an_uncovered_place_does_not_block_what_no_law_governs(policy: PolicyEngine) -> None:
    assert policy.evaluate(make_facts(jurisdictions={"CH"}, purpose=Purpose.SERVICE)) == ()


def test_a_send_time_without_a_time_zone_is_refused(policy: PolicyEngine) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        policy.evaluate(make_facts(send_at=datetime(2024, 6, 3, 12)))  # noqa: DTZ001


def test_a_failing_requirement_denies_with_policy_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: object) -> Reason | None:
        raise RuntimeError("bug")

    monkeypatch.setitem(
        REQUIREMENTS,
        RequirementKind.CONSENT,
        Requirement(ConsentParams, broken),
    )
    engine = PolicyEngine.load(POLICIES)
    facts = make_facts(
        jurisdictions=FRANCE, consents={Purpose.MARKETING: granted()}, channel_status=OPTED_IN
    )
    (reason,) = engine.evaluate(facts)
    assert reason.rule == POLICY_ERROR
    citation = "Directive 2002/58/EC Art 13(1); GDPR (EU) 2016/679 Art 8(1)"
    assert (reason.regime, reason.citation) == ("ePrivacy", citation)
    assert EPRIVACY in reason.message
    assert explained(engine, facts, EPRIVACY).reason == reason


def test_version_is_a_sha256_of_the_packs(policy: PolicyEngine) -> None:
    assert policy.version.startswith("sha256:")
    assert len(policy.version) == len("sha256:") + 64


def test_version_is_the_same_for_the_same_files(tmp_path: Path, policy: PolicyEngine) -> None:
    shutil.copytree(POLICIES, tmp_path, dirs_exist_ok=True)
    assert PolicyEngine.load(tmp_path).version == policy.version


def test_version_changes_when_one_byte_of_a_pack_changes(
    tmp_path: Path, policy: PolicyEngine
) -> None:
    shutil.copytree(POLICIES, tmp_path, dirs_exist_ok=True)
    pack = tmp_path / "glba.toml"
    pack.write_bytes(pack.read_bytes().replace(b"P30D", b"P31D"))
    assert PolicyEngine.load(tmp_path).version != policy.version


def test_version_changes_when_a_pack_is_renamed(tmp_path: Path, policy: PolicyEngine) -> None:
    shutil.copytree(POLICIES, tmp_path, dirs_exist_ok=True)
    (tmp_path / "glba.toml").rename(tmp_path / "us_glba.toml")
    assert PolicyEngine.load(tmp_path).version != policy.version


def test_explain_covers_every_rule_and_agrees_with_evaluate(policy: PolicyEngine) -> None:
    facts = make_facts(jurisdictions=FRANCE, consents={Purpose.MARKETING: objected()})
    explained = policy.explain(facts)
    assert [e.rule.id for e in explained] == [rule.id for rule in policy.rules]
    assert tuple(e.reason for e in explained if e.reason is not None) == policy.evaluate(facts)
    assert [e.rule.id for e in explained if e.applies] == [EPRIVACY, GDPR_OBJECTION]


def test_explain_says_why_a_rule_does_not_apply(policy: PolicyEngine) -> None:
    facts = make_facts(jurisdictions={"US-FL"}, channel=Channel.PHONE)
    why = {e.rule.id: e.why for e in policy.explain(facts)}
    assert why[EPRIVACY] == (
        "channel phone is not one of email, sms; customer is in US, US-FL, not in EEA"
    )
    assert why[GLBA_OPT_OUT] == "purpose marketing is not one of share_third_parties"


def test_explain_says_when_a_rule_is_not_yet_in_force(policy: PolicyEngine) -> None:
    facts = make_facts(send_at=datetime(2003, 1, 1, 12, tzinfo=UTC), time_zones=(MADRID,))
    eprivacy = explained(policy, facts, EPRIVACY)
    assert not eprivacy.applies
    assert eprivacy.why == (
        "not in force on 2003-01-01 (customer's local date): in force from 2003-10-31"
    )
    assert eprivacy.reason is None


def test_explain_says_why_a_rule_applies(policy: PolicyEngine) -> None:
    eprivacy = explained(policy, make_facts(jurisdictions={"ES-MD"}), EPRIVACY)
    assert eprivacy.applies
    assert eprivacy.why.startswith("applies: channel email, purpose marketing, customer in EEA")
    assert eprivacy.reason is not None


def test_explain_and_evaluate_agree_on_every_channel_purpose_place_and_date(
    policy: PolicyEngine,
) -> None:
    everything_missing = {
        "consents": {
            Purpose.MARKETING: objected(),
            Purpose.SHARE_THIRD_PARTIES: withdrawn(),
            Purpose.SHARE_AFFILIATES: withdrawn(),
        },
        "notices": {},
        "data_categories": frozenset({DataCategory.ACCOUNT_NUMBER}),
        # On every suppression list: a list rule denies only for a listed contact.
        "lists": {
            name: ListFact(source_date=SEND_AT.date(), listed=True)
            for name in ("national_dnc", "internal_dnc", "lista_robinson")
        },
    }
    for channel in (*Channel, None):
        for purpose in Purpose:
            for places in ({"ES-MD"}, {"NO"}, {"US-FL"}, {"CH"}, {"ES", "US"}):
                for year in (2001, 2010, 2024):
                    send_at = SEND_AT.replace(year=year)
                    caps_full = tuple(
                        PastContact(Channel.PHONE, purpose, send_at - timedelta(hours=hours))
                        for hours in (1, 2, 3)
                    )
                    facts = make_facts(
                        channel=channel,
                        purpose=purpose,
                        jurisdictions=places,
                        send_at=send_at,
                        recent_contacts=caps_full,
                        **everything_missing,
                    )
                    explained = policy.explain(facts)
                    from_explain = tuple(e.reason for e in explained if e.reason is not None)
                    unchosen = policy.place_reasons(facts)
                    assert (*unchosen, *from_explain) == policy.evaluate(facts), facts
                    assert all(e.reason is not None for e in explained if e.applies)
