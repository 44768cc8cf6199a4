"""GLBA annual privacy notice, 12 CFR 1016.5(a)(1): sharing with nonaffiliated third parties
only while a glba_initial or glba_annual notice was delivered within the last 12 calendar
months; tested at the edge from 29 February and from the 31st of a month."""

from datetime import UTC, date, datetime, timedelta

from policy.engine import PolicyEngine
from policy.reasons import Reason
from policy.vocabulary import Purpose
from tests.policy.factories import local_midnight, make_facts

ANNUAL = "glba.annual_notice"
INITIAL = "glba.initial_notice.opt_out_window"
SECOND = timedelta(seconds=1)
DALLAS = "America/Chicago"  # Central time, as most of Texas


def sharing(
    policy: PolicyEngine, at: datetime, **notices: tuple[datetime, ...]
) -> tuple[Reason, ...]:
    """What denies sharing a Texas customer's information with a nonaffiliated third party."""
    facts = make_facts(
        jurisdictions={"US-TX"},
        time_zones=(DALLAS,),
        channel=None,
        purpose=Purpose.SHARE_THIRD_PARTIES,
        send_at=at,
        notices=notices,
    )
    return policy.evaluate(facts)


def rules(policy: PolicyEngine, at: datetime, **notices: tuple[datetime, ...]) -> list[str]:
    return [reason.rule for reason in sharing(policy, at, **notices)]


def test_sharing_within_12_months_of_the_initial_notice_is_allowed(
    policy: PolicyEngine,
) -> None:
    notice = datetime(2025, 1, 10, tzinfo=UTC)
    assert rules(policy, datetime(2025, 12, 1, tzinfo=UTC), glba_initial=(notice,)) == []


def test_sharing_without_an_annual_notice_is_denied(policy: PolicyEngine) -> None:
    notice = datetime(2023, 1, 10, tzinfo=UTC)
    (reason,) = sharing(policy, datetime(2025, 1, 10, tzinfo=UTC), glba_initial=(notice,))
    assert (reason.rule, reason.regime) == (ANNUAL, "GLBA")
    assert reason.citation == "12 CFR 1016.5(a)(1)"
    assert "within the last 12 months" in reason.message
    assert "The last glba_initial or glba_annual notice was delivered at 2023-01-10" in (
        reason.message
    )
    # Waiting does not help: only a new notice does, so no time is offered.
    assert reason.earliest_allowed_at is None


def test_an_annual_notice_renews_the_12_months(policy: PolicyEngine) -> None:
    initial = (datetime(2022, 3, 1, tzinfo=UTC),)
    annual = (datetime(2023, 2, 20, tzinfo=UTC), datetime(2024, 2, 15, tzinfo=UTC))
    at = datetime(2025, 2, 1, tzinfo=UTC)
    assert rules(policy, at, glba_initial=initial, glba_annual=annual) == []


def test_the_12_months_from_29_february_end_on_28_february(policy: PolicyEngine) -> None:
    notice = (datetime(2024, 2, 29, 15, tzinfo=UTC),)
    ends = datetime(2025, 2, 28, 15, tzinfo=UTC)
    assert rules(policy, ends - SECOND, glba_initial=notice) == []
    assert rules(policy, ends, glba_initial=notice) == []
    assert rules(policy, ends + SECOND, glba_initial=notice) == [ANNUAL]


def test_the_12_months_from_31_december_are_calendar_months_not_365_days(
    policy: PolicyEngine,
) -> None:
    notice = (datetime(2023, 12, 31, 15, tzinfo=UTC),)
    ends = datetime(2024, 12, 31, 15, tzinfo=UTC)  # 366 days later: 2024 is a leap year
    assert rules(policy, notice[0] + timedelta(days=365, seconds=1), glba_initial=notice) == []
    assert rules(policy, ends - SECOND, glba_initial=notice) == []
    assert rules(policy, ends, glba_initial=notice) == []
    assert rules(policy, ends + SECOND, glba_initial=notice) == [ANNUAL]


def test_the_12_months_from_31_may_end_on_31_may(policy: PolicyEngine) -> None:
    notice = (datetime(2025, 5, 31, 23, 30, tzinfo=UTC),)
    ends = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)
    assert rules(policy, ends, glba_annual=notice, glba_initial=notice) == []
    assert rules(policy, ends + SECOND, glba_annual=notice, glba_initial=notice) == [ANNUAL]


def test_a_notice_delivered_after_the_sharing_does_not_cover_it(policy: PolicyEngine) -> None:
    initial = (datetime(2022, 1, 3, tzinfo=UTC),)
    at = datetime(2024, 6, 3, tzinfo=UTC)
    assert rules(policy, at, glba_initial=initial, glba_annual=(at + SECOND,)) == [ANNUAL]
    assert rules(policy, at, glba_initial=initial, glba_annual=(at,)) == []


def test_an_annual_notice_without_the_initial_notice_is_not_enough(
    policy: PolicyEngine,
) -> None:
    annual = (datetime(2024, 1, 3, tzinfo=UTC),)
    assert rules(policy, datetime(2024, 6, 3, tzinfo=UTC), glba_annual=annual) == [INITIAL]


def test_with_no_notice_at_all_both_notice_rules_deny(policy: PolicyEngine) -> None:
    assert rules(policy, datetime(2024, 6, 3, tzinfo=UTC)) == [INITIAL, ANNUAL]


def test_the_annual_notice_rule_applies_from_1_july_2001(policy: PolicyEngine) -> None:
    # From midnight in Texas (05:00 UTC): effective dates are the customer's local dates.
    start = local_midnight(date(2001, 7, 1), DALLAS)
    assert rules(policy, start - SECOND) == []
    assert rules(policy, start) == [INITIAL, ANNUAL]
    assert rules(policy, start + SECOND) == [INITIAL, ANNUAL]
