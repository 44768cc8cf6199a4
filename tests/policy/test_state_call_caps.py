"""Three telephone solicitations per rolling 24 hours on the same subject: FL, OK, MD, OR.

The cap counts the customer's earlier (and already scheduled) phone and SMS contacts for the
same purpose in every 24-hour window that holds the new one; each edge one second before, at
and after, and each state's effective date.
"""

from datetime import UTC, datetime, timedelta

import pytest

from policy.engine import PolicyEngine
from policy.facts import PastContact
from policy.kinds.history import MaxContactsParams, max_contacts
from policy.vocabulary import Channel, Purpose
from tests.policy.factories import make_facts

NOON = datetime(2026, 11, 24, 17, tzinfo=UTC)  # 12:00 in New York, inside calling hours
SECOND = timedelta(seconds=1)
DAY = timedelta(hours=24)
CAPS = {"us_fl.calls_per_24h", "us_ok.calls_per_24h", "us_md.calls_per_24h", "us_or.calls_per_24h"}


def calls(
    *at: datetime,
    channel: Channel = Channel.PHONE,
    purpose: Purpose = Purpose.MARKETING,
    reserved: bool = True,
) -> tuple[PastContact, ...]:
    return tuple(PastContact(channel, purpose, moment, reserved) for moment in at)


def caps_at(
    policy: PolicyEngine, at: datetime, history: tuple[PastContact, ...], state: str = "US-FL"
) -> list[str]:
    facts = make_facts(
        jurisdictions={state},
        channel=Channel.PHONE,
        send_at=at,
        time_zones=("America/New_York",),
        recent_contacts=history,
    )
    reasons = policy.evaluate(facts)
    return [reason.rule for reason in reasons if reason.rule in CAPS]


THREE_THIS_MORNING = calls(NOON - 3 * timedelta(hours=1), NOON - timedelta(hours=2), NOON)


def test_florida_third_call_in_24h_is_allowed(policy: PolicyEngine) -> None:
    assert caps_at(policy, NOON + SECOND, THREE_THIS_MORNING[:2]) == []


def test_florida_fourth_call_in_24h_is_denied(policy: PolicyEngine) -> None:
    assert caps_at(policy, NOON + SECOND, THREE_THIS_MORNING) == ["us_fl.calls_per_24h"]


def test_florida_cap_frees_24_hours_after_the_first_call(policy: PolicyEngine) -> None:
    first = THREE_THIS_MORNING[0].send_at
    assert caps_at(policy, first + DAY - SECOND, THREE_THIS_MORNING) == ["us_fl.calls_per_24h"]
    assert caps_at(policy, first + DAY, THREE_THIS_MORNING) == []
    assert caps_at(policy, first + DAY + SECOND, THREE_THIS_MORNING) == []


def test_the_deny_says_when_the_next_call_is_allowed(policy: PolicyEngine) -> None:
    facts = make_facts(
        jurisdictions={"US-FL"},
        channel=Channel.PHONE,
        send_at=NOON + SECOND,
        time_zones=("America/New_York",),
        recent_contacts=THREE_THIS_MORNING,
    )
    [cap] = [r for r in policy.evaluate(facts) if r.rule == "us_fl.calls_per_24h"]
    assert cap.earliest_allowed_at == THREE_THIS_MORNING[0].send_at + DAY
    assert cap.citation == "Fla. Stat. 501.616(6)(b)"


def test_a_scheduled_call_later_in_the_window_counts_too(policy: PolicyEngine) -> None:
    later = calls(NOON + timedelta(hours=1), NOON + timedelta(hours=2), NOON + timedelta(hours=3))
    assert caps_at(policy, NOON, later) == ["us_fl.calls_per_24h"]


def test_texts_count_with_calls(policy: PolicyEngine) -> None:
    mixed = THREE_THIS_MORNING[:2] + calls(NOON, channel=Channel.SMS)
    assert caps_at(policy, NOON + SECOND, mixed) == ["us_fl.calls_per_24h"]


@pytest.mark.parametrize("state", ["US-FL", "US-OK", "US-MD", "US-OR"])
def test_a_call_reported_failed_was_made_and_counts(policy: PolicyEngine, state: str) -> None:
    unanswered = calls(NOON - 3 * timedelta(hours=1), reserved=False) + THREE_THIS_MORNING[1:]
    assert caps_at(policy, NOON + SECOND, unanswered, state=state) == [
        f"us_{state[3:].lower()}.calls_per_24h"
    ]


def test_a_cap_may_leave_failed_contacts_out(policy: PolicyEngine) -> None:
    """``attempts = false`` counts only the contacts still holding their slot."""
    rule = next(rule for rule in policy.rules if rule.id == "us_fl.calls_per_24h")
    params = MaxContactsParams.model_validate({"count": 3, "period": "P1D", "channels": ["phone"]})
    facts = make_facts(
        jurisdictions={"US-FL"},
        channel=Channel.PHONE,
        send_at=NOON + SECOND,
        recent_contacts=calls(NOON - 3 * timedelta(hours=1), reserved=False)
        + THREE_THIS_MORNING[1:],
    )
    assert max_contacts(facts, params, rule) is not None
    reserved_only = params.model_copy(update={"attempts": False})
    assert max_contacts(facts, reserved_only, rule) is None


def test_another_subject_and_email_do_not_count(policy: PolicyEngine) -> None:
    other = (
        THREE_THIS_MORNING[:2]
        + calls(NOON, purpose=Purpose.SERVICE)
        + calls(NOON, channel=Channel.EMAIL)
    )
    assert caps_at(policy, NOON + SECOND, other) == []


def test_no_cap_outside_the_three_states(policy: PolicyEngine) -> None:
    assert caps_at(policy, NOON + SECOND, THREE_THIS_MORNING, state="US-NY") == []


@pytest.mark.parametrize(
    ("state", "rule", "effective"),
    [
        ("US-FL", "us_fl.calls_per_24h", datetime(2021, 7, 1, tzinfo=UTC)),
        ("US-OK", "us_ok.calls_per_24h", datetime(2022, 11, 1, tzinfo=UTC)),
        ("US-MD", "us_md.calls_per_24h", datetime(2024, 1, 1, tzinfo=UTC)),
        ("US-OR", "us_or.calls_per_24h", datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_each_state_cap_applies_from_its_effective_date(
    policy: PolicyEngine, state: str, rule: str, effective: datetime
) -> None:
    # 17:00 UTC is noon in Eastern time (13:00 in summer): inside calling hours either way.
    day_before = effective - timedelta(days=1) + timedelta(hours=17)
    first_day = effective + timedelta(hours=17)
    for at, expected in ((day_before, []), (first_day, [rule])):
        history = calls(at - timedelta(hours=3), at - timedelta(hours=2), at - timedelta(hours=1))
        assert caps_at(policy, at, history, state=state) == expected
