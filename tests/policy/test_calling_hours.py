"""Calling hours in the called party's local time: TCPA 8-21, Florida, Oklahoma, Maryland 8-20.

Each edge one second before, at and after, in New York on both DST changes of 2026
(8 March: clocks go forward; 1 November: back), and each state rule at its effective date.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from policy.engine import PolicyEngine
from policy.requirements import REQUIREMENTS, Requirement, RequirementKind
from policy.vocabulary import Channel
from tests.policy.factories import local_midnight, make_facts

NEW_YORK = ("America/New_York",)
SECOND = timedelta(seconds=1)
# Dialled by hand, so that only the hours are in question: the calling hours bind every
# telephone solicitation, but an automated one also needs written consent (64.1200(a)(2)).
MANUAL = {"automated": False}


def rules_at(policy: PolicyEngine, at: datetime, **facts: object) -> list[str]:
    fields: dict[str, object] = {
        "jurisdictions": {"US-NY"},
        "channel": Channel.PHONE,
        "send_at": at,
        "time_zones": NEW_YORK,
        **MANUAL,
    }
    fields.update(facts)
    return [reason.rule for reason in policy.evaluate(make_facts(**fields))]


@pytest.mark.parametrize(
    ("label", "eight_am_utc"),
    [
        ("winter", datetime(2026, 11, 26, 13, tzinfo=UTC)),  # EST, UTC-5
        ("spring DST change", datetime(2026, 3, 8, 12, tzinfo=UTC)),  # EDT from 02:00
        ("autumn DST change", datetime(2026, 11, 1, 13, tzinfo=UTC)),  # EST from 02:00
    ],
)
def test_tcpa_opens_at_8_am_new_york_time(
    policy: PolicyEngine, label: str, eight_am_utc: datetime
) -> None:
    assert rules_at(policy, eight_am_utc - SECOND) == ["tcpa.calling_hours"], label
    assert rules_at(policy, eight_am_utc) == [], label
    assert rules_at(policy, eight_am_utc + SECOND) == [], label


@pytest.mark.parametrize(
    ("label", "nine_pm_utc"),
    [
        ("winter", datetime(2026, 11, 27, 2, tzinfo=UTC)),  # 21:00 EST on 26 Nov
        ("spring DST change", datetime(2026, 3, 9, 1, tzinfo=UTC)),  # 21:00 EDT on 8 Mar
        ("autumn DST change", datetime(2026, 11, 2, 2, tzinfo=UTC)),  # 21:00 EST on 1 Nov
    ],
)
def test_tcpa_closes_at_9_pm_new_york_time(
    policy: PolicyEngine, label: str, nine_pm_utc: datetime
) -> None:
    assert rules_at(policy, nine_pm_utc - SECOND) == [], label
    assert rules_at(policy, nine_pm_utc) == ["tcpa.calling_hours"], label
    assert rules_at(policy, nine_pm_utc + SECOND) == ["tcpa.calling_hours"], label


def test_a_call_before_hours_says_when_it_may_be_made(policy: PolicyEngine) -> None:
    at = datetime(2026, 11, 26, 11, tzinfo=UTC)  # 06:00 in New York
    (reason,) = policy.evaluate(make_facts(
        jurisdictions={"US-NY"}, channel=Channel.SMS, send_at=at, time_zones=NEW_YORK, **MANUAL
    ))  # fmt: skip
    assert reason.earliest_allowed_at == datetime(2026, 11, 26, 13, tzinfo=UTC)
    assert reason.citation == "47 CFR 64.1200(c)(1)"


def test_a_call_after_hours_may_be_made_next_morning(policy: PolicyEngine) -> None:
    at = datetime(2026, 11, 27, 3, tzinfo=UTC)  # 22:00 in New York on 26 Nov
    (reason,) = policy.evaluate(make_facts(
        jurisdictions={"US-NY"}, channel=Channel.PHONE, send_at=at, time_zones=NEW_YORK, **MANUAL
    ))  # fmt: skip
    assert reason.earliest_allowed_at == datetime(2026, 11, 27, 13, tzinfo=UTC)


def test_florida_is_stricter_than_federal_at_8_pm(policy: PolicyEngine) -> None:
    eight_pm_miami = datetime(2026, 11, 27, 1, tzinfo=UTC)
    miami = {"jurisdictions": {"US-FL"}, "time_zones": NEW_YORK}
    assert rules_at(policy, eight_pm_miami - SECOND, **miami) == []
    assert rules_at(policy, eight_pm_miami, **miami) == ["us_fl.calling_hours"]
    assert rules_at(policy, eight_pm_miami + timedelta(hours=1), **miami) == [
        "tcpa.calling_hours",
        "us_fl.calling_hours",
    ]


@pytest.mark.parametrize(
    ("state", "zone", "effective"),
    [
        ("US-OK", "America/Chicago", date(2022, 11, 1)),
        ("US-MD", "America/New_York", date(2024, 1, 1)),
    ],
)
def test_state_hours_apply_from_their_effective_date(
    policy: PolicyEngine, state: str, zone: str, effective: date
) -> None:
    """Judged on the customer's local date of send_at: from midnight in the state's zone
    (05:00 UTC), not from UTC midnight, which is still the evening before there."""
    start = local_midnight(effective, zone)
    place = {"jurisdictions": {state}, "time_zones": (zone,)}
    rule = f"us_{state[-2:].lower()}.calling_hours"
    # Midnight is outside every calling window, so only whether the state rule is in force
    # changes across it; the TCPA's 8 a.m. to 9 p.m. denies throughout.
    assert rules_at(policy, start - SECOND, **place) == ["tcpa.calling_hours"]
    assert rules_at(policy, start, **place) == ["tcpa.calling_hours", rule]
    assert rules_at(policy, start + SECOND, **place) == ["tcpa.calling_hours", rule]
    # 20:30 local, after the state's 8 p.m. but before the TCPA's 9 p.m.: allowed on the eve
    # (already the effective date in UTC), denied by the state a day later.
    half_past_eight_pm = datetime.combine(effective, time(20, 30), tzinfo=ZoneInfo(zone))
    assert rules_at(policy, half_past_eight_pm - timedelta(days=1), **place) == []
    assert rules_at(policy, half_past_eight_pm, **place) == [rule]


def test_an_uncertain_zone_is_read_the_strictest_way(policy: PolicyEngine) -> None:
    at = datetime(2026, 11, 26, 14, tzinfo=UTC)  # 09:00 in New York, 06:00 in Los Angeles
    zones = ("America/New_York", "America/Los_Angeles")
    (reason,) = policy.evaluate(make_facts(
        jurisdictions={"US"}, channel=Channel.PHONE, send_at=at, time_zones=zones, **MANUAL
    ))  # fmt: skip
    assert reason.earliest_allowed_at == datetime(2026, 11, 26, 16, tzinfo=UTC)  # 08:00 in LA


def test_an_unknown_zone_fails_closed(policy: PolicyEngine) -> None:
    at = datetime(2026, 11, 26, 18, tzinfo=UTC)
    (reason,) = policy.evaluate(make_facts(
        jurisdictions={"US"}, channel=Channel.PHONE, send_at=at, time_zones=(), **MANUAL
    ))  # fmt: skip
    assert reason.rule == "tcpa.calling_hours"
    assert reason.earliest_allowed_at is None
    assert "local time is unknown" in reason.message


def test_email_is_not_a_telephone_solicitation(policy: PolicyEngine) -> None:
    at = datetime(2026, 11, 27, 4, tzinfo=UTC)  # 23:00 in New York
    assert rules_at(policy, at, channel=Channel.EMAIL) == []


# How long an allow holds (PolicyEngine.holds_until): until the hours close, not a day.
def _holds_until(policy: PolicyEngine, at: datetime, **facts: object) -> datetime:
    fields: dict[str, object] = {
        "jurisdictions": {"US-NY"},
        "channel": Channel.PHONE,
        "send_at": at,
        "time_zones": NEW_YORK,
        **MANUAL,
        **facts,
    }
    return policy.holds_until(make_facts(**fields), at + timedelta(hours=24))


def test_an_allow_in_the_hours_holds_until_they_close(policy: PolicyEngine) -> None:
    nine_pm = datetime(2026, 11, 27, 2, tzinfo=UTC)  # 21:00 in New York (EST)
    assert rules_at(policy, nine_pm - SECOND) == []
    assert _holds_until(policy, nine_pm - SECOND) == nine_pm
    assert _holds_until(policy, datetime(2026, 11, 26, 13, tzinfo=UTC)) == nine_pm  # from 8 am


def test_an_allow_holds_until_the_earliest_zone_closes(policy: PolicyEngine) -> None:
    """A number ringing in New York or Chicago: New York closes an hour earlier."""
    zones = ("America/New_York", "America/Chicago")
    noon_new_york = datetime(2026, 11, 26, 17, tzinfo=UTC)
    assert _holds_until(policy, noon_new_york, time_zones=zones) == datetime(
        2026, 11, 27, 2, tzinfo=UTC
    )


def test_an_allow_whose_horizon_cannot_be_found_ends_at_once(
    policy: PolicyEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> datetime:
        raise RuntimeError("bug")

    hours = REQUIREMENTS[RequirementKind.LOCAL_HOURS]
    monkeypatch.setitem(
        REQUIREMENTS,  # type: ignore[arg-type]
        RequirementKind.LOCAL_HOURS,
        Requirement(hours.params_model, hours.check, broken),
    )
    fresh = PolicyEngine(policy.rules, version=policy.version)
    noon_new_york = datetime(2026, 11, 26, 17, tzinfo=UTC)
    assert _holds_until(fresh, noon_new_york) == noon_new_york
