"""Canada's telemarketing rules (crtc.toml): calling hours that differ on weekends, the
National Do Not Call List with its exemptions, the internal do-not-call list, and the
consent automated calls need (the ADAD Rules).

Each edge one second before, at and after; weekends and DST changes in the called party's
zone. 2026-12-04 is a Friday.
"""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from policy.engine import PolicyEngine
from policy.facts import Facts, ListFact, Relationship
from policy.kinds.hours import LocalHoursParams
from policy.packs import PolicyLoadError, read_pack
from policy.vocabulary import Channel, Purpose
from tests.policy.factories import granted, local_midnight, make_facts

HOURS = "crtc.calling_hours"
DNCL = "crtc.national_dncl"
INTERNAL = "crtc.internal_dncl"
SECOND = timedelta(seconds=1)
TORONTO = "America/Toronto"
VANCOUVER = "America/Vancouver"
FRIDAY = date(2026, 12, 4)
DAY = FRIDAY - timedelta(days=2)  # a Wednesday


def toronto(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(TORONTO))


def lists(day: date, **listed: bool) -> dict[str, ListFact]:
    names = ("ca_national_dncl", "internal_dnc")
    return {name: ListFact(source_date=day, listed=listed.get(name, False)) for name in names}


def call(at: datetime, **facts: object) -> Facts:
    """A manual marketing call to a customer in Ontario, the lists loaded that day and clear."""
    fields: dict[str, object] = {
        "jurisdictions": {"CA-ON"},
        "channel": Channel.PHONE,
        "send_at": at.astimezone(UTC),
        "time_zones": (TORONTO,),
        "automated": False,
        "lists": lists(at.date()),
    }
    fields.update(facts)
    return make_facts(**fields)


def rule_ids(policy: PolicyEngine, facts: Facts) -> list[str]:
    return [reason.rule for reason in policy.evaluate(facts)]


def earliest(policy: PolicyEngine, facts: Facts) -> datetime | None:
    (reason,) = policy.evaluate(facts)
    assert reason.rule == HOURS
    return reason.earliest_allowed_at


# Calling hours: 9:00-21:30 on weekdays, 10:00-18:00 on weekends


@pytest.mark.parametrize(
    ("day", "opens", "closes"),
    [(DAY, (9, 0), (21, 30)), (FRIDAY + timedelta(days=1), (10, 0), (18, 0))],
    ids=["weekday", "saturday"],
)
def test_calls_are_allowed_from_the_opening_up_to_the_closing(
    policy: PolicyEngine, day: date, opens: tuple[int, int], closes: tuple[int, int]
) -> None:
    start, end = toronto(day, *opens), toronto(day, *closes)
    assert earliest(policy, call(start - SECOND)) == start
    assert policy.evaluate(call(start)) == ()
    assert policy.evaluate(call(end - SECOND)) == ()
    assert rule_ids(policy, call(end)) == [HOURS]


@pytest.mark.parametrize(
    ("at", "opens"),
    [
        (toronto(FRIDAY, 21, 30), toronto(FRIDAY + timedelta(days=1), 10)),  # Saturday's hours
        (toronto(FRIDAY + timedelta(days=1), 8), toronto(FRIDAY + timedelta(days=1), 10)),
        (toronto(FRIDAY + timedelta(days=2), 18), toronto(FRIDAY + timedelta(days=3), 9)),
    ],
    ids=["friday night", "saturday morning", "sunday evening"],
)
def test_a_denied_call_says_when_that_day_opens(
    policy: PolicyEngine, at: datetime, opens: datetime
) -> None:
    assert earliest(policy, call(at)) == opens


def test_the_reason_names_the_day_whose_hours_apply(policy: PolicyEngine) -> None:
    (reason,) = policy.evaluate(call(toronto(FRIDAY + timedelta(days=1), 9, 30)))
    assert "It is Saturday 09:30 in America/Toronto, outside 10:00-18:00" in reason.message


def test_an_allow_ends_at_that_days_closing(policy: PolicyEngine) -> None:
    horizon = toronto(FRIDAY, 9) + timedelta(days=3)
    assert policy.holds_until(call(toronto(FRIDAY, 20)), horizon) == toronto(FRIDAY, 21, 30)
    saturday = FRIDAY + timedelta(days=1)
    assert policy.holds_until(call(toronto(saturday, 12)), horizon) == toronto(saturday, 18)


# October: British Columbia's clocks stay at UTC-7 from November 2026 (tzdata 2026), so a
# later date would test the zones' new gap, not the rule.
OCTOBER_FRIDAY = date(2026, 10, 16)


def test_every_zone_the_customer_may_be_in_must_be_open(policy: PolicyEngine) -> None:
    saturday = OCTOBER_FRIDAY + timedelta(days=1)
    both = {"time_zones": (TORONTO, VANCOUVER)}
    vancouver_opens = datetime(2026, 10, 17, 10, tzinfo=ZoneInfo(VANCOUVER))
    assert earliest(policy, call(toronto(saturday, 12), **both)) == vancouver_opens
    assert policy.evaluate(call(vancouver_opens, **both)) == ()
    assert rule_ids(policy, call(toronto(saturday, 18) - SECOND, **both)) == []
    assert rule_ids(policy, call(toronto(saturday, 18), **both)) == [HOURS]


def test_a_friday_evening_in_vancouver_is_a_saturday_in_halifax(policy: PolicyEngine) -> None:
    # 20:30 on Friday in Vancouver is 00:30 on Saturday in Halifax: each zone by its own day.
    at = datetime(2026, 10, 16, 20, 30, tzinfo=ZoneInfo(VANCOUVER))
    assert at.astimezone(ZoneInfo("America/Halifax")).weekday() == 5
    facts = call(at, time_zones=(VANCOUVER, "America/Halifax"))
    halifax_opens = datetime(2026, 10, 17, 10, tzinfo=ZoneInfo("America/Halifax"))
    assert earliest(policy, facts) == halifax_opens


@pytest.mark.parametrize("day", [date(2026, 3, 8), date(2026, 11, 1)], ids=["spring", "fall"])
def test_sunday_hours_on_the_day_clocks_change(policy: PolicyEngine, day: date) -> None:
    opens, closes = toronto(day, 10), toronto(day, 18)
    assert earliest(policy, call(opens - SECOND)) == opens
    assert policy.evaluate(call(opens)) == ()
    assert policy.evaluate(call(closes - SECOND)) == ()
    assert rule_ids(policy, call(closes)) == [HOURS]


def test_an_unknown_zone_fails_closed(policy: PolicyEngine) -> None:
    assert rule_ids(policy, call(toronto(DAY, 12), time_zones=())) == [HOURS]


def test_the_rules_apply_from_30_september_2008(policy: PolicyEngine) -> None:
    start = local_midnight(date(2008, 9, 30), TORONTO)
    night = call(start - SECOND, lists=lists(date(2008, 9, 29), ca_national_dncl=True))
    assert policy.evaluate(night) == ()
    assert rule_ids(policy, replace(night, send_at=start)) == [HOURS, DNCL]


def test_texts_are_judged_by_casl_not_these_rules(policy: PolicyEngine) -> None:
    text = call(toronto(DAY, 23), channel=Channel.SMS, consents={Purpose.MARKETING: granted()})
    assert not {HOURS, DNCL, INTERNAL} & set(rule_ids(policy, text))


def test_service_calls_are_not_telemarketing(policy: PolicyEngine) -> None:
    assert policy.evaluate(call(toronto(DAY, 23), purpose=Purpose.SERVICE)) == ()


# The National DNCL and the internal list

NOON = toronto(DAY, 12)


def test_a_listed_number_is_not_called(policy: PolicyEngine) -> None:
    (reason,) = policy.evaluate(call(NOON, lists=lists(DAY, ca_national_dncl=True)))
    assert (reason.rule, reason.regime) == (DNCL, "CRTC")
    assert reason.citation.startswith("Telecommunications Act s. 41.7(1)")


def test_express_consent_exempts_from_the_national_list(policy: PolicyEngine) -> None:
    listed = call(NOON, lists=lists(DAY, ca_national_dncl=True))
    assert policy.evaluate(replace(listed, consents={Purpose.MARKETING: granted()})) == ()


@pytest.mark.parametrize(
    ("relationship", "months"),
    [("last_purchase_at", 18), ("last_inquiry_at", 6)],
    ids=["purchase", "inquiry"],
)
def test_an_existing_business_relationship_exempts_until_it_lapses(
    policy: PolicyEngine, relationship: str, months: int
) -> None:
    dealt = datetime(2025, 1, 10, 12, tzinfo=UTC)
    lapses = datetime(2025 + (months // 12), 1 + months % 12, 10, 12, tzinfo=UTC)
    facts = call(
        lapses - SECOND,
        relationship=Relationship(**{relationship: dealt}),
        lists=lists(lapses.date(), ca_national_dncl=True),
        time_zones=("UTC",),
    )
    assert policy.evaluate(facts) == ()
    assert rule_ids(policy, replace(facts, send_at=lapses)) == [DNCL]


def test_a_do_not_call_request_ends_the_relationship_and_bars_the_call(
    policy: PolicyEngine,
) -> None:
    recent = Relationship(last_purchase_at=NOON - timedelta(days=30))
    both = lists(DAY, ca_national_dncl=True, internal_dnc=True)
    assert rule_ids(policy, call(NOON, relationship=recent, lists=both)) == [DNCL, INTERNAL]
    consenting = {Purpose.MARKETING: granted()}
    assert rule_ids(policy, call(NOON, consents=consenting, lists=both)) == [INTERNAL]


def test_no_copy_or_a_stale_copy_of_the_national_list_fails_closed(policy: PolicyEngine) -> None:
    missing = call(NOON, lists={"internal_dnc": ListFact(source_date=DAY, listed=False)})
    assert rule_ids(policy, missing) == [f"{DNCL}.copy_missing"]
    # A copy serves calls through the 31st day after its date (edge: test_lists.py).
    last_day, first_stale_day = DAY + timedelta(days=31), DAY + timedelta(days=32)
    assert rule_ids(policy, call(toronto(last_day, 12), lists=lists(DAY))) == []
    stale = call(toronto(first_stale_day, 12), lists=lists(DAY))
    assert rule_ids(policy, stale) == [f"{DNCL}.copy_stale"]


# The parameter that makes the weekend


def test_on_days_windows_are_checked_when_the_pack_loads() -> None:
    LocalHoursParams.model_validate(
        {"start": "09:00", "end": "21:30", "on_days": {"sunday": ["10:00", "18:00"]}}
    )
    bad = (
        ({"sunday": ["18:00", "10:00"]}, "start must be before end"),
        ({"sundae": ["10:00", "18:00"]}, "sundae"),
    )
    for on_days, problem in bad:
        with pytest.raises(ValidationError, match=problem):
            LocalHoursParams.model_validate({"start": "09:00", "end": "21:30", "on_days": on_days})


def test_hours_with_days_of_their_own_hash_like_any_rule(policy: PolicyEngine) -> None:
    (hours,) = [rule for rule in policy.rules if rule.id == HOURS]
    same = LocalHoursParams.model_validate(
        {
            "start": "09:00",
            "end": "21:30",
            "on_days": {"sunday": ["10:00", "18:00"], "saturday": ["10:00", "18:00"]},
        }
    )
    assert hash(hours.params) == hash(same)
    assert hours.params == same
    assert len({*policy.rules}) == len(policy.rules)


def test_a_pack_with_a_bad_weekend_window_names_the_rule() -> None:
    text = (
        '[pack]\nname = "x"\ntitle = "x"\n\n[[rules]]\nid = "x.hours"\nregime = "X"\n'
        'jurisdictions = ["CA"]\nchannels = ["phone"]\npurposes = ["marketing"]\n'
        'effective_from = 2008-09-30\nrequires = "local_hours"\ncitation = "x"\nmessage = "X."\n'
        "\n[rules.params]\nstart = 09:00:00\nend = 21:30:00\n\n[rules.params.on_days]\n"
        "saturday = [18:00:00, 10:00:00]\n"
    )
    with pytest.raises(PolicyLoadError) as raised:
        read_pack("x.toml", text.encode())
    (problem,) = raised.value.problems
    assert problem.startswith("x.toml:5: rules[0].params")
    assert problem.endswith("start must be before end (windows across midnight are not law here)")


# Automatic Dialing-Announcing Devices: prior express consent, no relationship instead

ADAD = "crtc.adad.express_consent"
RECENT_BUYER = Relationship(last_purchase_at=datetime(2026, 11, 1, tzinfo=UTC))


def test_an_automated_call_to_a_recent_buyer_without_consent_is_denied(
    policy: PolicyEngine,
) -> None:
    # The relationship exempts from the National DNCL, not from the ADAD Rules.
    facts = call(toronto(DAY, 12), automated=True, relationship=RECENT_BUYER)
    (reason,) = policy.evaluate(facts)
    assert reason.rule == ADAD
    assert "No consent recorded for marketing" in reason.message
    assert policy.evaluate(call(toronto(DAY, 12), relationship=RECENT_BUYER)) == ()


def test_an_automated_call_with_express_consent_is_allowed(policy: PolicyEngine) -> None:
    consent = {Purpose.MARKETING: granted()}
    assert policy.evaluate(call(toronto(DAY, 12), automated=True, consents=consent)) == ()


def test_a_record_of_legitimate_interests_is_no_consent_to_automated_calls(
    policy: PolicyEngine,
) -> None:
    record = replace(granted(), legal_basis="legitimate_interests")
    facts = call(toronto(DAY, 12), automated=True, consents={Purpose.MARKETING: record})
    assert rule_ids(policy, facts) == [ADAD]


def test_the_adad_rule_applies_from_30_september_2008(policy: PolicyEngine) -> None:
    first = local_midnight(date(2008, 9, 30), TORONTO) + timedelta(hours=12)
    facts = call(first, automated=True, relationship=Relationship(last_purchase_at=first))
    assert rule_ids(policy, facts) == [ADAD]
    before = call(first - timedelta(days=1), automated=True)
    assert ADAD not in rule_ids(policy, before)
