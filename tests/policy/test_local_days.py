"""Effective dates are the customer's local dates: a law in force "from 29 June 2023" in Spain
is in force from midnight in Madrid, 22:00 UTC the evening before.

The local date is read in every zone the customer may be in (their stored zone or their
phones' zones, else every zone of their countries, else every zone on earth), and a rule
applies if it is in force on any of those dates: near a start date the earliest local
midnight wins, near an end date the rule applies until its last day has ended everywhere.
Each boundary one second before, at and after.
"""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import available_timezones

import pytest

from policy.engine import PolicyEngine
from policy.local_days import local_days, zones_of
from policy.vocabulary import Channel
from tests.policy.factories import POLICIES, local_midnight, make_facts

SECOND = timedelta(seconds=1)
MADRID = "Europe/Madrid"
CANARY = "Atlantic/Canary"
NEW_YORK = "America/New_York"
LGTEL = "lgtel.art66_1_b.marketing_calls"  # Ley 11/2022 Art 66.1.b, from 29 June 2023
LGTEL_DAY = date(2023, 6, 29)
MARYLAND = "us_md.calling_hours"  # Md. Code Com. Law 14-4503, from 1 January 2024
EPRIVACY = "eprivacy.art13_1.e_marketing_consent"


def spanish_call_rules(policy: PolicyEngine, at: datetime, **facts: object) -> list[str]:
    """The rules that deny a marketing call dialled by hand, without consent, to a customer in
    Spain."""
    fields: dict[str, object] = {"jurisdictions": {"ES"}, "channel": Channel.PHONE, "send_at": at}
    fields["automated"] = False
    fields.update(facts)
    return [reason.rule for reason in policy.evaluate(make_facts(**fields))]


def maryland_call_rules(policy: PolicyEngine, at: datetime) -> list[str]:
    """The rules that deny a call dialled by hand to a customer in Baltimore."""
    facts = make_facts(
        jurisdictions={"US-MD"},
        channel=Channel.PHONE,
        send_at=at,
        time_zones=(NEW_YORK,),
        automated=False,
    )
    return [reason.rule for reason in policy.evaluate(facts)]


# A start date


def test_a_spanish_law_applies_from_midnight_in_madrid(policy: PolicyEngine) -> None:
    start = local_midnight(LGTEL_DAY, MADRID)
    assert start == datetime(2023, 6, 28, 22, tzinfo=UTC)  # CEST, UTC+2
    in_madrid = {"time_zones": (MADRID,)}
    assert spanish_call_rules(policy, start - SECOND, **in_madrid) == []
    assert spanish_call_rules(policy, start, **in_madrid) == [LGTEL]
    assert spanish_call_rules(policy, start + SECOND, **in_madrid) == [LGTEL]


def test_a_spanish_law_applies_from_midnight_in_the_canaries_for_a_customer_there(
    policy: PolicyEngine,
) -> None:
    start = local_midnight(LGTEL_DAY, CANARY)
    assert start == datetime(2023, 6, 28, 23, tzinfo=UTC)  # WEST, UTC+1
    in_the_canaries = {"time_zones": (CANARY,)}
    assert spanish_call_rules(policy, start - SECOND, **in_the_canaries) == []
    assert spanish_call_rules(policy, start, **in_the_canaries) == [LGTEL]
    assert spanish_call_rules(policy, start + SECOND, **in_the_canaries) == [LGTEL]


def test_a_customer_known_only_to_be_in_spain_is_judged_from_the_earliest_midnight_there(
    policy: PolicyEngine,
) -> None:
    # No stored zone, no phone: they may be in Madrid, Ceuta (both UTC+2 in summer) or the
    # Canaries (UTC+1); the law binds from the first of those midnights.
    start = datetime(2023, 6, 28, 22, tzinfo=UTC)
    assert spanish_call_rules(policy, start - SECOND, time_zones=()) == []
    assert spanish_call_rules(policy, start, time_zones=()) == [LGTEL]
    assert spanish_call_rules(policy, start + SECOND, time_zones=()) == [LGTEL]


def test_maryland_hours_apply_from_midnight_in_baltimore_not_at_utc_midnight(
    policy: PolicyEngine,
) -> None:
    start = local_midnight(date(2024, 1, 1), NEW_YORK)
    assert start == datetime(2024, 1, 1, 5, tzinfo=UTC)  # EST, UTC-5
    assert MARYLAND not in maryland_call_rules(policy, start - SECOND)
    assert MARYLAND in maryland_call_rules(policy, start)
    assert MARYLAND in maryland_call_rules(policy, start + SECOND)


def test_a_maryland_call_at_half_past_eight_on_new_years_eve_2023_is_allowed(
    policy: PolicyEngine,
) -> None:
    # 01:30 UTC on 1 January 2024 is 20:30 on 31 December in Baltimore: after Maryland's
    # 8 p.m., before the TCPA's 9 p.m., and before Maryland's law took effect there. The UTC
    # reading applied the law five hours early and denied this call.
    assert maryland_call_rules(policy, datetime(2024, 1, 1, 1, 30, tzinfo=UTC)) == []


# An end date


@pytest.fixture
def eprivacy_until_3_june_2024(tmp_path: Path) -> PolicyEngine:
    """The EU pack with ePrivacy Art 13(1) in force only before 3 June 2024."""
    text = (POLICIES / "gdpr.toml").read_text(encoding="utf-8")
    ended = text.replace(
        "effective_from = 2003-10-31", "effective_from = 2003-10-31\neffective_until = 2024-06-03"
    )
    assert ended != text
    (tmp_path / "gdpr.toml").write_text(ended, encoding="utf-8")
    return PolicyEngine.load(tmp_path)


@pytest.mark.parametrize(
    ("where", "zones", "end"),
    [
        # Known only to be in Spain: 2 June ends last in the Canaries (WEST, UTC+1).
        ("anywhere in Spain", (), datetime(2024, 6, 2, 23, tzinfo=UTC)),
        # Phones in Madrid and New York: 2 June ends last in New York (EDT, UTC-4).
        ("Madrid or New York", (MADRID, NEW_YORK), datetime(2024, 6, 3, 4, tzinfo=UTC)),
    ],
)
def test_an_ended_rule_applies_until_its_last_day_has_ended_wherever_the_customer_may_be(
    eprivacy_until_3_june_2024: PolicyEngine,
    where: str,
    zones: tuple[str, ...],
    end: datetime,
) -> None:
    def rules(at: datetime) -> list[str]:
        facts = make_facts(send_at=at, time_zones=zones)
        return [reason.rule for reason in eprivacy_until_3_june_2024.evaluate(facts)]

    assert rules(end - SECOND) == [EPRIVACY], where
    assert rules(end) == [], where
    assert rules(end + SECOND) == [], where


@pytest.fixture
def eprivacy_on_2_june_2024_only(tmp_path: Path) -> PolicyEngine:
    """The EU pack with ePrivacy Art 13(1) in force for one day: 2 June 2024."""
    text = (POLICIES / "gdpr.toml").read_text(encoding="utf-8")
    one_day = text.replace(
        "effective_from = 2003-10-31", "effective_from = 2024-06-02\neffective_until = 2024-06-03"
    )
    assert one_day != text
    (tmp_path / "gdpr.toml").write_text(one_day, encoding="utf-8")
    return PolicyEngine.load(tmp_path)


def test_a_rule_in_force_for_one_day_applies_on_that_local_day(
    eprivacy_on_2_june_2024_only: PolicyEngine,
) -> None:
    # 11:00 UTC on 2 June is 1 June on Baker Island and 3 June in Kiribati: the shortcut
    # that compares the earliest and latest dates on earth must not skip the customer's own.
    at = datetime(2024, 6, 2, 11, tzinfo=UTC)
    facts = make_facts(send_at=at, time_zones=(MADRID,))
    assert [r.rule for r in eprivacy_on_2_june_2024_only.evaluate(facts)] == [EPRIVACY]


# What explain says


def lgtel_explained(policy: PolicyEngine, at: datetime, zones: tuple[str, ...]) -> str:
    facts = make_facts(jurisdictions={"ES"}, channel=Channel.PHONE, send_at=at, time_zones=zones)
    (found,) = [e for e in policy.explain(facts) if e.rule.id == LGTEL]
    return found.why


def test_explain_names_the_customers_local_date_when_a_rule_is_not_yet_in_force(
    policy: PolicyEngine,
) -> None:
    # 21:30 UTC on 28 June 2023: 23:30 in Madrid and Ceuta, 22:30 in the Canaries.
    at = datetime(2023, 6, 28, 21, 30, tzinfo=UTC)
    assert lgtel_explained(policy, at, ()) == (
        "not in force on 2023-06-28 (customer's local date): in force from 2023-06-29"
    )


def test_explain_names_every_local_date_the_customer_may_be_on(policy: PolicyEngine) -> None:
    # 23:00 UTC on 27 June 2023: already 28 June in Madrid, still 27 June in New York.
    at = datetime(2023, 6, 27, 23, tzinfo=UTC)
    assert lgtel_explained(policy, at, (MADRID, NEW_YORK)) == (
        "not in force on 2023-06-27 / 2023-06-28 (customer's local date): in force from 2023-06-29"
    )


def test_explain_names_the_local_date_on_which_a_rule_applies(policy: PolicyEngine) -> None:
    # Midnight in Madrid: 29 June there, though still 28 June in UTC.
    why = lgtel_explained(policy, local_midnight(LGTEL_DAY, MADRID), (MADRID,))
    assert why.endswith("in force on 2023-06-29 (since 2023-06-29)")


# policy.local_days on its own


def test_the_zones_of_a_us_state_are_every_zone_of_the_united_states() -> None:
    zones = zones_of(["US-FL"])
    assert {NEW_YORK, "America/Chicago", "America/Anchorage", "Pacific/Honolulu"} <= set(zones)


def test_the_zones_of_spain_are_the_peninsula_ceuta_and_the_canaries() -> None:
    assert zones_of(["ES"]) == ("Africa/Ceuta", CANARY, MADRID)


def test_a_code_with_no_country_has_no_zones() -> None:
    assert zones_of(["XX"]) == ()


def test_local_days_reads_the_date_in_each_zone() -> None:
    at = datetime(2023, 6, 28, 22, 30, tzinfo=UTC)  # 00:30 in Madrid, 18:30 in New York
    assert local_days(at, (MADRID, NEW_YORK)) == {date(2023, 6, 28), date(2023, 6, 29)}


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # 10:00 UTC is midnight at UTC+14 (Kiritimati): a third date begins.
        (datetime(2024, 6, 3, 9, 59, 59, tzinfo=UTC), {date(2024, 6, 2), date(2024, 6, 3)}),
        (
            datetime(2024, 6, 3, 10, tzinfo=UTC),
            {date(2024, 6, 2), date(2024, 6, 3), date(2024, 6, 4)},
        ),
        # 12:00 UTC is midnight at UTC-12 (Baker Island): the oldest date ends.
        (
            datetime(2024, 6, 3, 11, 59, 59, tzinfo=UTC),
            {date(2024, 6, 2), date(2024, 6, 3), date(2024, 6, 4)},
        ),
        (datetime(2024, 6, 3, 12, tzinfo=UTC), {date(2024, 6, 3), date(2024, 6, 4)}),
    ],
)
def test_with_no_zone_known_every_date_on_earth_is_possible(
    at: datetime, expected: set[date]
) -> None:
    assert local_days(at, ()) == expected
    # The same dates as in every zone tzdata knows, from UTC-12 to UTC+14.
    assert local_days(at, available_timezones()) == expected
