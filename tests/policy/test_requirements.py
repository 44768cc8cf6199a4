from datetime import timedelta

from policy.kinds.consents import (
    ConsentParams,
    NoObjectionParams,
    NoOptOutParams,
    consent,
    no_objection,
    no_opt_out,
)
from policy.kinds.notices import NoticeElapsedParams, notice_elapsed
from policy.vocabulary import PreferenceStatus, Purpose
from tests.policy.factories import (
    LONG_AGO,
    OPTED_IN,
    RULE,
    SEND_AT,
    granted,
    make_facts,
    objected,
    withdrawn,
)

MARKETING_WITH_OPT_IN = ConsentParams(purpose=Purpose.MARKETING, channel_opt_in=True)
MARKETING_ONLY = ConsentParams(purpose=Purpose.MARKETING)
NO_MARKETING_OBJECTION = NoObjectionParams(purposes=(Purpose.MARKETING,))
NO_SHARING_OPT_OUT = NoOptOutParams(purpose=Purpose.SHARE_THIRD_PARTIES)
THIRTY_DAYS_AFTER_NOTICE = NoticeElapsedParams(notice_kinds=("glba_initial",), period="P30D")
SECOND = timedelta(seconds=1)


# consent


def test_consent_granted_with_the_channel_opted_in_is_satisfied() -> None:
    facts = make_facts(consents={Purpose.MARKETING: granted()}, channel_status=OPTED_IN)
    assert consent(facts, MARKETING_WITH_OPT_IN, RULE) is None


def test_consent_missing_is_denied_with_the_rules_identity_and_message() -> None:
    reason = consent(make_facts(channel_status=OPTED_IN), MARKETING_WITH_OPT_IN, RULE)
    assert reason is not None
    assert (reason.rule, reason.regime, reason.citation) == ("test.rule", "Test", "Test Act s.1")
    assert reason.message == "The test rule says no. No consent recorded for marketing."
    assert reason.earliest_allowed_at is None


def test_consent_withdrawn_is_denied_saying_when() -> None:
    facts = make_facts(consents={Purpose.MARKETING: withdrawn()}, channel_status=OPTED_IN)
    reason = consent(facts, MARKETING_WITH_OPT_IN, RULE)
    assert reason is not None
    assert "consent for marketing withdrawn on 2020-01-01" in reason.message.lower()


def test_consent_replaced_by_an_objection_is_denied() -> None:
    facts = make_facts(consents={Purpose.MARKETING: objected()}, channel_status=OPTED_IN)
    reason = consent(facts, MARKETING_WITH_OPT_IN, RULE)
    assert reason is not None
    assert "objected to marketing" in reason.message


def test_consent_expiring_exactly_at_send_time_is_expired() -> None:
    facts = make_facts(
        consents={Purpose.MARKETING: granted(expires_at=SEND_AT)}, channel_status=OPTED_IN
    )
    reason = consent(facts, MARKETING_WITH_OPT_IN, RULE)
    assert reason is not None
    assert "consent for marketing expired on 2024-06-03" in reason.message.lower()


def test_consent_expiring_one_second_after_send_time_is_in_force() -> None:
    facts = make_facts(
        consents={Purpose.MARKETING: granted(expires_at=SEND_AT + SECOND)},
        channel_status=OPTED_IN,
    )
    assert consent(facts, MARKETING_WITH_OPT_IN, RULE) is None


def test_consent_recorded_after_the_send_time_is_not_prior_consent() -> None:
    facts = make_facts(
        consents={Purpose.MARKETING: granted(captured_at=SEND_AT + SECOND)},
        channel_status=OPTED_IN,
    )
    reason = consent(facts, MARKETING_WITH_OPT_IN, RULE)
    assert reason is not None
    assert "after send time" in reason.message


def test_consent_recorded_exactly_at_the_send_time_counts() -> None:
    facts = make_facts(
        consents={Purpose.MARKETING: granted(captured_at=SEND_AT)}, channel_status=OPTED_IN
    )
    assert consent(facts, MARKETING_WITH_OPT_IN, RULE) is None


def test_consent_with_the_channel_never_asked_is_denied() -> None:
    facts = make_facts(consents={Purpose.MARKETING: granted()})
    reason = consent(facts, MARKETING_WITH_OPT_IN, RULE)
    assert reason is not None
    assert reason.message.endswith("Email channel not opted in (customer never asked).")


def test_consent_with_the_channel_opted_out_is_denied() -> None:
    facts = make_facts(
        consents={Purpose.MARKETING: granted()}, channel_status=PreferenceStatus.OPTED_OUT
    )
    reason = consent(facts, MARKETING_WITH_OPT_IN, RULE)
    assert reason is not None
    assert "email channel not opted in (customer opted out)" in reason.message.lower()


def test_consent_names_every_missing_part_in_one_reason() -> None:
    reason = consent(make_facts(), MARKETING_WITH_OPT_IN, RULE)
    assert reason is not None
    assert reason.message == (
        "The test rule says no. No consent recorded for marketing; "
        "email channel not opted in (customer never asked)."
    )


def test_consent_without_channel_opt_in_ignores_the_channel() -> None:
    facts = make_facts(consents={Purpose.MARKETING: granted()})
    assert consent(facts, MARKETING_ONLY, RULE) is None


# no_objection


def test_no_objection_denies_an_objection_to_marketing() -> None:
    facts = make_facts(consents={Purpose.MARKETING: objected()})
    reason = no_objection(facts, NO_MARKETING_OBJECTION, RULE)
    assert reason is not None
    assert reason.message == "The test rule says no. Customer objected to marketing on 2020-01-01."


def test_no_objection_is_satisfied_by_a_withdrawal() -> None:
    facts = make_facts(consents={Purpose.MARKETING: withdrawn()})
    assert no_objection(facts, NO_MARKETING_OBJECTION, RULE) is None


def test_no_objection_is_satisfied_with_nothing_on_record() -> None:
    assert no_objection(make_facts(), NO_MARKETING_OBJECTION, RULE) is None


def test_no_objection_ignores_objections_to_other_purposes() -> None:
    facts = make_facts(consents={Purpose.PROFILING: objected()})
    assert no_objection(facts, NO_MARKETING_OBJECTION, RULE) is None


# no_opt_out


def test_no_opt_out_denies_a_withdrawal() -> None:
    facts = make_facts(consents={Purpose.SHARE_THIRD_PARTIES: withdrawn()})
    reason = no_opt_out(facts, NO_SHARING_OPT_OUT, RULE)
    assert reason is not None
    assert "opted out of share_third_parties on 2020-01-01" in reason.message


def test_no_opt_out_denies_an_objection() -> None:
    facts = make_facts(consents={Purpose.SHARE_THIRD_PARTIES: objected()})
    assert no_opt_out(facts, NO_SHARING_OPT_OUT, RULE) is not None


def test_an_opt_out_never_expires() -> None:
    opt_out = withdrawn(expires_at=LONG_AGO + timedelta(days=1))
    facts = make_facts(consents={Purpose.SHARE_THIRD_PARTIES: opt_out})
    assert no_opt_out(facts, NO_SHARING_OPT_OUT, RULE) is not None


def test_no_opt_out_is_satisfied_by_a_grant_or_nothing_on_record() -> None:
    facts = make_facts(consents={Purpose.SHARE_THIRD_PARTIES: granted()})
    assert no_opt_out(facts, NO_SHARING_OPT_OUT, RULE) is None
    assert no_opt_out(make_facts(), NO_SHARING_OPT_OUT, RULE) is None


# notice_elapsed


NOTICE_AT = SEND_AT - timedelta(days=30)


def test_glba_sharing_denied_one_second_before_30_days_after_initial_notice() -> None:
    facts = make_facts(send_at=SEND_AT - SECOND, notices={"glba_initial": (NOTICE_AT,)})
    reason = notice_elapsed(facts, THIRTY_DAYS_AFTER_NOTICE, RULE)
    assert reason is not None
    assert reason.earliest_allowed_at == SEND_AT
    assert "P30D period runs until 2024-06-03T12:00:00+00:00" in reason.message


def test_glba_sharing_allowed_exactly_30_days_after_initial_notice() -> None:
    facts = make_facts(send_at=SEND_AT, notices={"glba_initial": (NOTICE_AT,)})
    assert notice_elapsed(facts, THIRTY_DAYS_AFTER_NOTICE, RULE) is None


def test_glba_sharing_allowed_one_second_after_30_days_after_initial_notice() -> None:
    facts = make_facts(send_at=SEND_AT + SECOND, notices={"glba_initial": (NOTICE_AT,)})
    assert notice_elapsed(facts, THIRTY_DAYS_AFTER_NOTICE, RULE) is None


def test_no_notice_delivered_is_denied_with_no_time_to_wait_for() -> None:
    reason = notice_elapsed(make_facts(), THIRTY_DAYS_AFTER_NOTICE, RULE)
    assert reason is not None
    assert reason.earliest_allowed_at is None
    assert "no glba_initial notice was delivered" in reason.message.lower()


def test_a_notice_delivered_after_the_send_time_does_not_count() -> None:
    facts = make_facts(notices={"glba_initial": (SEND_AT + SECOND,)})
    reason = notice_elapsed(facts, THIRTY_DAYS_AFTER_NOTICE, RULE)
    assert reason is not None
    assert reason.earliest_allowed_at is None


def test_the_period_runs_from_the_first_delivery() -> None:
    deliveries = (SEND_AT - timedelta(days=5), NOTICE_AT)
    facts = make_facts(notices={"glba_initial": deliveries})
    assert notice_elapsed(facts, THIRTY_DAYS_AFTER_NOTICE, RULE) is None


def test_a_notice_of_another_kind_does_not_count() -> None:
    facts = make_facts(notices={"glba_annual": (NOTICE_AT,)})
    assert notice_elapsed(facts, THIRTY_DAYS_AFTER_NOTICE, RULE) is not None


def test_any_of_the_listed_notice_kinds_counts() -> None:
    params = NoticeElapsedParams(notice_kinds=("glba_initial", "glba_revised"), period="P30D")
    facts = make_facts(notices={"glba_revised": (NOTICE_AT,)})
    assert notice_elapsed(facts, params, RULE) is None


def test_a_one_month_notice_period_follows_the_calendar() -> None:
    params = NoticeElapsedParams(notice_kinds=("notice",), period="P1M")
    delivered = SEND_AT.replace(month=1, day=31)
    facts = make_facts(
        send_at=SEND_AT.replace(month=2, day=29) - SECOND, notices={"notice": (delivered,)}
    )
    reason = notice_elapsed(facts, params, RULE)
    assert reason is not None
    assert reason.earliest_allowed_at == SEND_AT.replace(month=2, day=29)
