"""GLBA's named exceptions (12 CFR 1016.13-15) and account numbers (1016.12), engine level.

1016.13 (service providers, joint marketing) lifts the opt-out and its 30-day window but
still needs the initial notice; 1016.14 and 1016.15 lift the notice and the opt-out; the
annual notice (1016.5) is no condition of a disclosure under any of them. Account numbers
may not go to a nonaffiliated third party for its marketing, and only the exceptions whose
disclosures are for another use lift that.
"""

from datetime import timedelta

import pytest

from policy.engine import Explanation, PolicyEngine
from policy.facts import Facts
from policy.vocabulary import Channel, DataCategory, LegalException, Purpose
from tests.policy.factories import SEND_AT, make_facts, withdrawn

OPT_OUT = "glba.opt_out.third_party_sharing"
WINDOW = "glba.initial_notice.opt_out_window"
ANNUAL = "glba.annual_notice"
SERVICE_PROVIDER_NOTICE = "glba.service_providers.initial_notice"
ACCOUNT_NUMBERS = "glba.account_numbers"
SECOND = timedelta(seconds=1)

SECTION_13 = (LegalException.SERVICE_PROVIDER, LegalException.JOINT_MARKETING)
SECTIONS_14_15 = tuple(e for e in LegalException if e not in SECTION_13)
# Exceptions under which the recipient may use what it gets for marketing: 1016.12 binds.
MAY_MARKET = (*SECTION_13, LegalException.CONSENT_OR_DIRECTION)
NOT_FOR_MARKETING = tuple(e for e in LegalException if e not in MAY_MARKET)


def sharing(
    exception: LegalException | None = None,
    *,
    notice_days_ago: int | None = 40,
    **overrides: object,
) -> Facts:
    """A New York customer's information shared with a nonaffiliated third party."""
    notices = (
        {}
        if notice_days_ago is None
        else {"glba_initial": (SEND_AT - timedelta(days=notice_days_ago),)}
    )
    fields: dict[str, object] = {
        "jurisdictions": {"US-NY"},
        "time_zones": ("America/New_York",),
        "channel": None,
        "purpose": Purpose.SHARE_THIRD_PARTIES,
        "notices": notices,
        "exception": exception,
    }
    fields.update(overrides)
    return make_facts(**fields)


def rules(policy: PolicyEngine, facts: Facts) -> list[str]:
    return [reason.rule for reason in policy.evaluate(facts)]


def explained(policy: PolicyEngine, facts: Facts, rule_id: str) -> Explanation:
    (found,) = [e for e in policy.explain(facts) if e.rule.id == rule_id]
    return found


ACCOUNT_NUMBER = frozenset({DataCategory.ACCOUNT_NUMBER})
OPTED_OUT = {Purpose.SHARE_THIRD_PARTIES: withdrawn()}


# --- what each exception lifts ------------------------------------------------------------


@pytest.mark.parametrize(
    ("exception", "still_denying"),
    [
        (None, [OPT_OUT, WINDOW, ANNUAL, ACCOUNT_NUMBERS]),
        *((e, [SERVICE_PROVIDER_NOTICE, ACCOUNT_NUMBERS]) for e in SECTION_13),
        (LegalException.CONSENT_OR_DIRECTION, [ACCOUNT_NUMBERS]),
        *((e, []) for e in NOT_FOR_MARKETING),
    ],
    ids=str,
)
def test_each_exception_lifts_exactly_what_the_regulation_says(
    policy: PolicyEngine, exception: LegalException | None, still_denying: list[str]
) -> None:
    # Everything missing: no notice, an opt-out on record, and account numbers disclosed.
    facts = sharing(
        exception, notice_days_ago=None, consents=OPTED_OUT, data_categories=ACCOUNT_NUMBER
    )
    assert rules(policy, facts) == still_denying


# --- 1016.13: service providers and joint marketing ---------------------------------------


@pytest.mark.parametrize("exception", SECTION_13, ids=str)
def test_sharing_10_days_after_the_notice_under_1016_13_is_allowed(
    policy: PolicyEngine, exception: LegalException
) -> None:
    assert rules(policy, sharing(notice_days_ago=10)) == [WINDOW]
    assert rules(policy, sharing(exception, notice_days_ago=10)) == []


@pytest.mark.parametrize("exception", SECTION_13, ids=str)
def test_sharing_under_1016_13_after_an_opt_out_is_allowed_by_the_law(
    policy: PolicyEngine, exception: LegalException
) -> None:
    assert rules(policy, sharing(exception, consents=OPTED_OUT)) == []


@pytest.mark.parametrize("exception", SECTION_13, ids=str)
def test_sharing_under_1016_13_without_the_initial_notice_is_denied(
    policy: PolicyEngine, exception: LegalException
) -> None:
    (reason,) = policy.evaluate(sharing(exception, notice_days_ago=None))
    assert (reason.rule, reason.regime) == (SERVICE_PROVIDER_NOTICE, "GLBA")
    assert reason.citation == "12 CFR 1016.13(a)(1)(i); 1016.4"
    assert "No glba_initial notice was delivered by the send time" in reason.message
    assert reason.earliest_allowed_at is None  # only a notice helps, not waiting


def test_sharing_with_a_service_provider_is_allowed_from_the_instant_of_the_notice(
    policy: PolicyEngine,
) -> None:
    notices = {"glba_initial": (SEND_AT,)}
    service_provider = LegalException.SERVICE_PROVIDER
    before = sharing(service_provider, notices=notices, send_at=SEND_AT - SECOND)
    assert rules(policy, before) == [SERVICE_PROVIDER_NOTICE]
    assert rules(policy, sharing(service_provider, notices=notices, send_at=SEND_AT)) == []
    after = sharing(service_provider, notices=notices, send_at=SEND_AT + SECOND)
    assert rules(policy, after) == []


def test_an_annual_notice_alone_is_not_the_initial_notice_1016_13_asks_for(
    policy: PolicyEngine,
) -> None:
    notices = {"glba_annual": (SEND_AT - timedelta(days=10),)}
    facts = sharing(LegalException.SERVICE_PROVIDER, notices=notices)
    assert rules(policy, facts) == [SERVICE_PROVIDER_NOTICE]


def test_the_service_provider_notice_rule_does_not_judge_sharing_under_no_exception(
    policy: PolicyEngine,
) -> None:
    assert rules(policy, sharing(notice_days_ago=None)) == [WINDOW, ANNUAL]


@pytest.mark.parametrize("exception", SECTIONS_14_15, ids=str)
def test_the_service_provider_notice_rule_does_not_judge_1016_14_and_15_disclosures(
    policy: PolicyEngine, exception: LegalException
) -> None:
    assert rules(policy, sharing(exception, notice_days_ago=None)) == []


# --- 1016.14 and 1016.15: no notice, no opt-out ---------------------------------------------


@pytest.mark.parametrize("exception", SECTIONS_14_15, ids=str)
def test_1016_14_and_15_disclosures_need_no_notice_and_ignore_the_opt_out(
    policy: PolicyEngine, exception: LegalException
) -> None:
    assert rules(policy, sharing(notice_days_ago=None, consents=OPTED_OUT)) == [
        OPT_OUT,
        WINDOW,
        ANNUAL,
    ]
    assert rules(policy, sharing(exception, notice_days_ago=None, consents=OPTED_OUT)) == []


# --- 1016.5: the annual notice --------------------------------------------------------------


@pytest.mark.parametrize("exception", list(LegalException), ids=str)
def test_the_annual_notice_is_no_condition_of_a_disclosure_under_an_exception(
    policy: PolicyEngine, exception: LegalException
) -> None:
    # The only notice was 400 days ago: sharing under no exception needs a new one.
    assert rules(policy, sharing(notice_days_ago=400)) == [ANNUAL]
    assert rules(policy, sharing(exception, notice_days_ago=400)) == []


# --- 1016.12: account numbers ---------------------------------------------------------------


def test_sharing_account_numbers_with_no_exception_is_denied(policy: PolicyEngine) -> None:
    (reason,) = policy.evaluate(sharing(data_categories=ACCOUNT_NUMBER))
    assert (reason.rule, reason.regime) == (ACCOUNT_NUMBERS, "GLBA")
    assert reason.citation == "12 CFR 1016.12(a)-(b)"
    assert "for its telemarketing, direct mail or e-mail marketing" in reason.message
    assert "The disclosure includes account_number" in reason.message
    assert reason.earliest_allowed_at is None


def test_sharing_without_account_numbers_is_not_judged_by_the_account_number_rule(
    policy: PolicyEngine,
) -> None:
    npi = frozenset({DataCategory.NONPUBLIC_PERSONAL_INFORMATION})
    assert rules(policy, sharing(data_categories=npi)) == []
    assert rules(policy, sharing(data_categories=frozenset())) == []


def test_account_numbers_alongside_other_information_are_still_denied(
    policy: PolicyEngine,
) -> None:
    both = frozenset(DataCategory)
    assert rules(policy, sharing(data_categories=both)) == [ACCOUNT_NUMBERS]


@pytest.mark.parametrize("exception", MAY_MARKET, ids=str)
def test_account_numbers_are_denied_under_exceptions_that_allow_marketing(
    policy: PolicyEngine, exception: LegalException
) -> None:
    facts = sharing(exception, data_categories=ACCOUNT_NUMBER)
    assert rules(policy, facts) == [ACCOUNT_NUMBERS]


@pytest.mark.parametrize("exception", NOT_FOR_MARKETING, ids=str)
def test_account_numbers_under_exceptions_not_for_marketing_are_allowed(
    policy: PolicyEngine, exception: LegalException
) -> None:
    assert rules(policy, sharing(exception, data_categories=ACCOUNT_NUMBER)) == []


# --- explain --------------------------------------------------------------------------------


def test_explain_says_a_rule_lifted_by_the_invoked_exception_was_not_applied(
    policy: PolicyEngine,
) -> None:
    window = explained(policy, sharing(LegalException.SERVICE_PROVIDER, notice_days_ago=10), WINDOW)
    assert not window.applies
    assert window.reason is None
    assert window.why == "not applied: the caller invoked exception service_provider"


def test_explain_says_the_service_provider_notice_rule_waits_for_its_exceptions(
    policy: PolicyEngine,
) -> None:
    unused = explained(policy, sharing(), SERVICE_PROVIDER_NOTICE)
    assert not unused.applies
    assert unused.why == (
        "not applied: it judges only disclosures under joint_marketing or service_provider, "
        "and the caller invoked no exception"
    )
    other = explained(policy, sharing(LegalException.LEGAL_PROCESS), SERVICE_PROVIDER_NOTICE)
    assert other.why.endswith("and the caller invoked exception legal_process")


def test_explain_shows_the_rules_an_exception_leaves_in_force(policy: PolicyEngine) -> None:
    facts = sharing(
        LegalException.JOINT_MARKETING, notice_days_ago=None, data_categories=ACCOUNT_NUMBER
    )
    for rule_id in (SERVICE_PROVIDER_NOTICE, ACCOUNT_NUMBERS):
        found = explained(policy, facts, rule_id)
        assert found.applies
        assert found.why.startswith("applies: channel none (a data-use check)")
        assert found.reason is not None


def test_explain_and_evaluate_agree_under_every_exception(policy: PolicyEngine) -> None:
    for exception in (None, *LegalException):
        for channel in (None, Channel.EMAIL):
            for places in ({"US-NY"}, {"ES"}, {"ES", "US"}):
                facts = sharing(
                    exception,
                    notice_days_ago=None,
                    channel=channel,
                    jurisdictions=places,
                    consents=OPTED_OUT,
                    data_categories=ACCOUNT_NUMBER,
                )
                from_explain = tuple(e.reason for e in policy.explain(facts) if e.reason)
                assert from_explain == policy.evaluate(facts), (exception, channel, places)


# --- scope ----------------------------------------------------------------------------------


def test_an_exception_lifts_nothing_the_pack_does_not_say_it_lifts(policy: PolicyEngine) -> None:
    # GLBA's exceptions are no answer to the ePrivacy rule on e-mail marketing in France.
    marketing = make_facts(jurisdictions={"FR"})
    invoked = make_facts(jurisdictions={"FR"}, exception=LegalException.CONSENT_OR_DIRECTION)
    assert rules(policy, marketing) == rules(policy, invoked) != []
