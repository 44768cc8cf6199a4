"""FCRA affiliate marketing (Reg V, 12 CFR 1022.20-27): the notice and 30 days to opt out,
an opt-out that holds until revoked (checked at the 5-year mark), and the pre-existing
business relationship: 18 months after a purchase, 3 months after an inquiry.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from policy.engine import PolicyEngine
from policy.facts import Relationship
from policy.reasons import Reason
from policy.vocabulary import Purpose
from tests.policy.factories import (
    SEND_AT,
    bought,
    granted,
    inquired,
    local_midnight,
    make_facts,
    withdrawn,
)

OPT_OUT = "fcra.affiliate_marketing.opt_out"
NOTICE = "fcra.affiliate_marketing.notice"
SECOND = timedelta(seconds=1)
NOTICE_LONG_AGO = {"fcra_affiliate": (datetime(2020, 1, 1, tzinfo=UTC),)}


def affiliate_use(**overrides: object) -> dict[str, object]:
    """A US affiliate's use of shared eligibility information, noticed long ago."""
    fields: dict[str, object] = {
        "jurisdictions": {"US-CA"},
        "channel": None,
        "purpose": Purpose.SHARE_AFFILIATES,
        "notices": NOTICE_LONG_AGO,
    }
    fields.update(overrides)
    return fields


def rules(policy: PolicyEngine, **overrides: object) -> list[str]:
    return [reason.rule for reason in policy.evaluate(make_facts(**affiliate_use(**overrides)))]


def reasons(policy: PolicyEngine, **overrides: object) -> tuple[Reason, ...]:
    return policy.evaluate(make_facts(**affiliate_use(**overrides)))


def opted_out(at: datetime = datetime(2021, 5, 1, tzinfo=UTC)) -> dict[Purpose, object]:
    return {Purpose.SHARE_AFFILIATES: withdrawn(at)}


def test_affiliate_marketing_after_notice_and_without_opt_out_is_allowed(
    policy: PolicyEngine,
) -> None:
    assert rules(policy) == []


def test_affiliate_marketing_after_an_opt_out_is_denied(policy: PolicyEngine) -> None:
    (reason,) = reasons(policy, consents=opted_out())
    assert (reason.rule, reason.regime) == (OPT_OUT, "FCRA")
    assert reason.citation == (
        "FCRA s.624 (15 USC 1681s-3); 12 CFR 1022.21(a)(1)(iii), 1022.22(b), 1022.21(c)(1)"
    )
    assert "opted out of share_affiliates on 2021-05-01" in reason.message
    assert "no purchase within P18M before the send time" in reason.message
    assert reason.earliest_allowed_at is None


def test_affiliate_marketing_without_the_notice_is_denied(policy: PolicyEngine) -> None:
    (reason,) = reasons(policy, notices={})
    assert (reason.rule, reason.regime) == (NOTICE, "FCRA")
    assert "1022.24(b)" in reason.citation
    assert "No fcra_affiliate notice was delivered by the send time" in reason.message


def test_a_glba_notice_alone_is_not_the_affiliate_marketing_notice(
    policy: PolicyEngine,
) -> None:
    assert rules(policy, notices={"glba_initial": NOTICE_LONG_AGO["fcra_affiliate"]}) == [NOTICE]


def test_without_notice_and_after_an_opt_out_both_reasons_are_listed(
    policy: PolicyEngine,
) -> None:
    assert rules(policy, notices={}, consents=opted_out()) == [OPT_OUT, NOTICE]


def test_affiliate_marketing_waits_30_days_after_the_notice(policy: PolicyEngine) -> None:
    notices = {"fcra_affiliate": (SEND_AT - timedelta(days=30),)}
    (reason,) = reasons(policy, notices=notices, send_at=SEND_AT - SECOND)
    assert reason.rule == NOTICE
    assert reason.earliest_allowed_at == SEND_AT
    assert rules(policy, notices=notices, send_at=SEND_AT) == []
    assert rules(policy, notices=notices, send_at=SEND_AT + SECOND) == []


def test_the_opt_out_still_holds_at_the_5_year_mark(policy: PolicyEngine) -> None:
    # 1022.22(b) allows an opt-out period longer than 5 years, up to "until revoked": chosen.
    opted = datetime(2019, 3, 1, 10, tzinfo=UTC)
    five_years = datetime(2024, 3, 1, 10, tzinfo=UTC)
    for at in (five_years - SECOND, five_years, five_years + SECOND):
        assert rules(policy, consents=opted_out(opted), send_at=at) == [OPT_OUT], at


def test_the_opt_out_holds_twenty_years_later(policy: PolicyEngine) -> None:
    at = datetime(2041, 5, 1, tzinfo=UTC)
    assert rules(policy, consents=opted_out(), send_at=at) == [OPT_OUT]


def test_a_later_grant_revokes_the_opt_out(policy: PolicyEngine) -> None:
    consents = {Purpose.SHARE_AFFILIATES: granted(datetime(2023, 1, 1, tzinfo=UTC))}
    assert rules(policy, consents=consents) == []


@pytest.mark.parametrize(
    ("dealing", "at", "ends"),
    [
        # 1022.20(b)(4)(i)(B): 18 calendar months from 31 August end on 29 February.
        (bought, datetime(2022, 8, 31, 9, tzinfo=UTC), datetime(2024, 2, 29, 9, tzinfo=UTC)),
        # 1022.20(b)(4)(i)(C): 3 calendar months from 30 November end on 28 February.
        (inquired, datetime(2024, 11, 30, 16, tzinfo=UTC), datetime(2025, 2, 28, 16, tzinfo=UTC)),
    ],
    ids=["purchase_18_months", "inquiry_3_months"],
)
def test_a_pre_existing_relationship_overrides_opt_out_and_notice(
    policy: PolicyEngine,
    dealing: Callable[[datetime], Relationship],
    at: datetime,
    ends: datetime,
) -> None:
    facts = {"consents": opted_out(), "notices": {}, "relationship": dealing(at)}
    assert rules(policy, send_at=ends - SECOND, **facts) == []
    assert rules(policy, send_at=ends, **facts) == []
    assert rules(policy, send_at=ends + SECOND, **facts) == [OPT_OUT, NOTICE]


def test_an_expired_relationship_reason_names_both_windows(policy: PolicyEngine) -> None:
    (reason,) = reasons(
        policy,
        consents=opted_out(),
        relationship=bought(datetime(2021, 1, 1, tzinfo=UTC)),
    )
    assert "the last purchase was on 2021-01-01, so its P18M window ended" in reason.message
    assert "no inquiry within P3M before the send time" in reason.message


def test_fcra_affiliate_marketing_applies_from_1_october_2008(policy: PolicyEngine) -> None:
    # From midnight in Los Angeles (07:00 UTC): effective dates are the customer's local dates.
    start = local_midnight(date(2008, 10, 1), "America/Los_Angeles")
    facts = {"notices": {}, "time_zones": ("America/Los_Angeles",)}
    assert rules(policy, send_at=start - SECOND, **facts) == []
    assert rules(policy, send_at=start, **facts) == [NOTICE]
    assert rules(policy, send_at=start + SECOND, **facts) == [NOTICE]


def test_fcra_does_not_apply_outside_the_us(policy: PolicyEngine) -> None:
    # In Spain the opt-out leaves the sharing without a basis (GDPR), not under the FCRA.
    found = rules(policy, jurisdictions={"ES"}, notices={}, consents=opted_out())
    assert found == ["gdpr.art6.lawful_basis.share_affiliates"]


def test_fcra_does_not_judge_third_party_sharing(policy: PolicyEngine) -> None:
    facts = {"purpose": Purpose.SHARE_THIRD_PARTIES, "consents": opted_out()}
    assert not {OPT_OUT, NOTICE} & set(rules(policy, **facts))
