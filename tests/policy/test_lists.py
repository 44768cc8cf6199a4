"""Suppression lists as the law reads them: the national and internal do-not-call lists
(47 CFR 64.1200(c)(2), (d)) and Lista Robinson (LOPDGDD Art 23.4), on the packs as loaded.

Each boundary one second before, at and after: the 31-day age of a registry copy, the 18-month
and 3-month established business relationship, and each rule's effective date.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from policy.engine import PolicyEngine
from policy.facts import ConsentFact, ListFact, Relationship
from policy.kinds.lists import NotListedParams, not_listed
from policy.packs import PolicyLoadError, read_pack
from policy.reasons import Reason
from policy.vocabulary import Channel, ConsentStatus, Purpose
from tests.policy.factories import RULE, granted, local_midnight, make_facts, withdrawn

SECOND = timedelta(seconds=1)
NOON = datetime(2026, 11, 26, 17, tzinfo=UTC)  # 12:00 in New York, inside calling hours
NEW_YORK = ("America/New_York",)
NATIONAL = "tcpa.national_dnc"
INTERNAL = "tcpa.internal_dnc"
ROBINSON = "lopdgdd.art23.lista_robinson"
LIST_RULES = (NATIONAL, INTERNAL, ROBINSON)


TODAY = NOON.date()


def current(listed: bool = False, on: date | None = None, day: date = TODAY) -> ListFact:
    return ListFact(source_date=day, listed=listed, listed_on=on)


def clean() -> dict[str, ListFact]:
    return {name: current() for name in ("national_dnc", "internal_dnc", "lista_robinson")}


def us_call(at: datetime = NOON, **overrides: object) -> dict[str, object]:
    """A manual marketing call to a New York number, every list loaded today and clean."""
    fields: dict[str, object] = {
        "jurisdictions": {"US-NY"},
        "channel": Channel.PHONE,
        "send_at": at,
        "time_zones": NEW_YORK,
        "automated": False,
        "lists": clean(),
    }
    fields.update(overrides)
    return fields


def list_rules(policy: PolicyEngine, **facts: object) -> list[str]:
    found = [reason.rule for reason in policy.evaluate(make_facts(**facts))]
    return [rule for rule in found if rule.startswith(LIST_RULES)]


def reason_of(policy: PolicyEngine, rule: str, **facts: object) -> Reason:
    """The one reason of ``rule`` (or of one of its own sub-reasons) for these facts."""
    (found,) = (r for r in policy.evaluate(make_facts(**facts)) if r.rule.startswith(rule))
    return found


def on(list_name: str, listed_on: date | None = None, **facts: object) -> dict[str, object]:
    """The facts with the contact on ``list_name``."""
    lists = {**facts.get("lists", clean()), list_name: current(True, listed_on)}
    return {**facts, "lists": lists}


# the national do-not-call registry


def test_a_call_to_a_number_on_the_national_registry_is_denied(policy: PolicyEngine) -> None:
    reason = reason_of(policy, NATIONAL, **on("national_dnc", **us_call()))
    assert reason.rule == NATIONAL
    assert reason.citation == "47 CFR 64.1200(c)(2), (f)(5); 16 CFR 310.4(b)(1)(iii)(B)"
    assert "the phone number is on the national_dnc list" in reason.message.lower()
    assert reason.earliest_allowed_at is None


def test_a_text_to_a_number_on_the_national_registry_is_denied(policy: PolicyEngine) -> None:
    facts = on("national_dnc", **us_call(channel=Channel.SMS))
    assert list_rules(policy, **facts) == [NATIONAL]


def test_a_number_not_on_the_registry_is_allowed(policy: PolicyEngine) -> None:
    assert list_rules(policy, **us_call()) == []


def test_the_listing_date_is_shown_when_the_list_gives_one(policy: PolicyEngine) -> None:
    reason = reason_of(policy, NATIONAL, **on("national_dnc", date(2025, 3, 4), **us_call()))
    assert "on the national_dnc list since 2025-03-04" in reason.message


def test_no_registry_copy_loaded_denies_with_its_own_reason(policy: PolicyEngine) -> None:
    lists = {name: fact for name, fact in clean().items() if name != "national_dnc"}
    reason = reason_of(policy, NATIONAL, **us_call(lists=lists))
    assert reason.rule == "tcpa.national_dnc.copy_missing"
    assert "no copy of the national_dnc list is loaded" in reason.message.lower()


COPY_OF_1_MARCH = date(2026, 3, 1)
STALE_FROM = datetime(2026, 4, 2, tzinfo=UTC)  # 1 March + 31 days = 1 April, the last day


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (STALE_FROM - SECOND, []),
        (STALE_FROM, ["tcpa.national_dnc.copy_stale"]),
        (STALE_FROM + SECOND, ["tcpa.national_dnc.copy_stale"]),
    ],
)
def test_a_registry_copy_serves_calls_up_to_31_days_after_its_date(
    policy: PolicyEngine, at: datetime, expected: list[str]
) -> None:
    lists = {**clean(), "national_dnc": current(day=COPY_OF_1_MARCH)}
    facts = us_call(at, lists=lists, time_zones=("UTC",), jurisdictions={"US"})
    assert list_rules(policy, **facts) == expected


def test_a_stale_copy_says_its_date_and_the_limit(policy: PolicyEngine) -> None:
    lists = {**clean(), "national_dnc": current(day=COPY_OF_1_MARCH)}
    reason = reason_of(policy, NATIONAL, **us_call(STALE_FROM, lists=lists))
    assert "copy loaded is dated 2026-03-01, more than P31D before" in reason.message


def test_a_stale_copy_that_lists_the_number_reports_both(policy: PolicyEngine) -> None:
    lists = {**clean(), "national_dnc": current(True, day=COPY_OF_1_MARCH)}
    reason = reason_of(policy, NATIONAL, **us_call(STALE_FROM, lists=lists))
    assert reason.rule == NATIONAL
    assert "on the national_dnc list" in reason.message
    assert "load a fresh copy" in reason.message


def test_a_copy_dated_after_the_call_is_current(policy: PolicyEngine) -> None:
    lists = {**clean(), "national_dnc": current(day=NOON.date() + timedelta(days=3))}
    assert list_rules(policy, **us_call(lists=lists)) == []


def test_written_permission_to_call_exempts_a_registered_number(policy: PolicyEngine) -> None:
    written = ConsentFact(ConsentStatus.GRANTED, NOON - timedelta(days=30), written=True)
    facts = on("national_dnc", **us_call(consents={Purpose.MARKETING: written}))
    assert list_rules(policy, **facts) == []


def test_written_permission_also_spares_the_need_for_a_copy(policy: PolicyEngine) -> None:
    """64.1200(f)(15)(i): such a call is no telephone solicitation, so the registry is moot."""
    written = ConsentFact(ConsentStatus.GRANTED, NOON - timedelta(days=30), written=True)
    facts = us_call(consents={Purpose.MARKETING: written}, lists={})
    assert list_rules(policy, **facts) == []


def test_consent_that_is_not_written_does_not_exempt_a_registered_number(
    policy: PolicyEngine,
) -> None:
    facts = on("national_dnc", **us_call(consents={Purpose.MARKETING: granted()}))
    assert list_rules(policy, **facts) == [NATIONAL]


def test_withdrawn_written_permission_no_longer_exempts(policy: PolicyEngine) -> None:
    gone = ConsentFact(ConsentStatus.WITHDRAWN, NOON - timedelta(days=1), written=True)
    facts = on("national_dnc", **us_call(consents={Purpose.MARKETING: gone}))
    assert list_rules(policy, **facts) == [NATIONAL]


PURCHASE = datetime(2025, 5, 26, 17, tzinfo=UTC)
EIGHTEEN_MONTHS_LATER = datetime(2026, 11, 26, 17, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (EIGHTEEN_MONTHS_LATER - SECOND, []),
        (EIGHTEEN_MONTHS_LATER, [NATIONAL]),
        (EIGHTEEN_MONTHS_LATER + SECOND, [NATIONAL]),
    ],
)
def test_a_purchase_exempts_a_registered_number_for_18_months(
    policy: PolicyEngine, at: datetime, expected: list[str]
) -> None:
    facts = on("national_dnc", **us_call(at, relationship=Relationship(last_purchase_at=PURCHASE)))
    assert list_rules(policy, **facts) == expected


INQUIRY = datetime(2026, 8, 26, 17, tzinfo=UTC)
THREE_MONTHS_LATER = datetime(2026, 11, 26, 17, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (THREE_MONTHS_LATER - SECOND, []),
        (THREE_MONTHS_LATER, [NATIONAL]),
        (THREE_MONTHS_LATER + SECOND, [NATIONAL]),
    ],
)
def test_an_inquiry_exempts_a_registered_number_for_3_months(
    policy: PolicyEngine, at: datetime, expected: list[str]
) -> None:
    facts = on("national_dnc", **us_call(at, relationship=Relationship(last_inquiry_at=INQUIRY)))
    assert list_rules(policy, **facts) == expected


def test_a_purchase_after_the_call_is_no_relationship_at_it(policy: PolicyEngine) -> None:
    later = Relationship(last_purchase_at=NOON + SECOND)
    facts = on("national_dnc", **us_call(relationship=later))
    assert list_rules(policy, **facts) == [NATIONAL]


def test_a_do_not_call_request_to_us_ends_the_relationship(policy: PolicyEngine) -> None:
    """64.1200(f)(5)(i): both lists then deny, each with its own reason."""
    recent = Relationship(last_purchase_at=NOON - timedelta(days=10))
    facts = on("internal_dnc", **on("national_dnc", **us_call(relationship=recent)))
    assert list_rules(policy, **facts) == [NATIONAL, INTERNAL]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime(2003, 10, 1, tzinfo=UTC) - SECOND, []),
        (datetime(2003, 10, 1, tzinfo=UTC), [NATIONAL]),
        (datetime(2003, 10, 1, tzinfo=UTC) + SECOND, [NATIONAL]),
    ],
)
def test_the_registry_is_enforced_from_1_october_2003(
    policy: PolicyEngine, at: datetime, expected: list[str]
) -> None:
    lists = {"national_dnc": current(True, day=at.date())}
    facts = us_call(at, lists=lists, time_zones=("UTC",), jurisdictions={"US"})
    assert list_rules(policy, **facts) == expected


def test_service_calls_are_not_telephone_solicitations(policy: PolicyEngine) -> None:
    facts = on("national_dnc", **us_call(purpose=Purpose.SERVICE))
    assert list_rules(policy, **facts) == []


def test_email_is_not_under_the_do_not_call_lists(policy: PolicyEngine) -> None:
    facts = on("internal_dnc", **on("national_dnc", **us_call(channel=Channel.EMAIL)))
    assert list_rules(policy, **facts) == []


# the seller's own do-not-call list


def test_a_number_on_our_do_not_call_list_is_denied(policy: PolicyEngine) -> None:
    reason = reason_of(policy, INTERNAL, **on("internal_dnc", date(2026, 11, 25), **us_call()))
    assert reason.citation == "47 CFR 64.1200(d)(3), (d)(6)"
    assert "on the internal_dnc list since 2026-11-25" in reason.message


def test_our_do_not_call_list_has_no_consent_exception(policy: PolicyEngine) -> None:
    written = ConsentFact(ConsentStatus.GRANTED, NOON - timedelta(days=30), written=True)
    facts = on("internal_dnc", **us_call(consents={Purpose.MARKETING: written}))
    assert list_rules(policy, **facts) == [INTERNAL]


def test_no_copy_of_our_own_list_means_no_request_on_it(policy: PolicyEngine) -> None:
    lists = {name: fact for name, fact in clean().items() if name != "internal_dnc"}
    assert list_rules(policy, **us_call(lists=lists)) == []


# Effective dates are the customer's local dates: from midnight in New York (05:00 UTC).
TCPA_1992 = local_midnight(date(1992, 12, 20), NEW_YORK[0])


@pytest.mark.parametrize(
    ("at", "expected"),
    [(TCPA_1992 - SECOND, []), (TCPA_1992, [INTERNAL]), (TCPA_1992 + SECOND, [INTERNAL])],
)
def test_our_do_not_call_list_applies_from_the_1992_rules(
    policy: PolicyEngine, at: datetime, expected: list[str]
) -> None:
    facts = us_call(at, lists={"internal_dnc": current(True)}, jurisdictions={"US"})
    assert list_rules(policy, **facts) == expected


# Lista Robinson


def spanish_call(at: datetime = NOON, **overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "jurisdictions": {"ES"},
        "channel": Channel.PHONE,
        "send_at": at,
        "time_zones": ("Europe/Madrid",),
        "lists": clean(),
    }
    fields.update(overrides)
    return fields


@pytest.mark.parametrize("channel", [Channel.PHONE, Channel.SMS, Channel.EMAIL])
def test_marketing_to_someone_on_lista_robinson_is_denied(
    policy: PolicyEngine, channel: Channel
) -> None:
    facts = on("lista_robinson", **spanish_call(channel=channel))
    assert list_rules(policy, **facts) == [ROBINSON]


def test_consent_to_this_sender_overrides_lista_robinson(policy: PolicyEngine) -> None:
    facts = on("lista_robinson", **spanish_call(consents={Purpose.MARKETING: granted()}))
    assert list_rules(policy, **facts) == []


def test_withdrawn_consent_does_not_override_lista_robinson(policy: PolicyEngine) -> None:
    facts = on("lista_robinson", **spanish_call(consents={Purpose.MARKETING: withdrawn()}))
    assert list_rules(policy, **facts) == [ROBINSON]


def test_consent_given_after_the_send_time_does_not_override_lista_robinson(
    policy: PolicyEngine,
) -> None:
    late = {Purpose.MARKETING: granted(captured_at=NOON + SECOND)}
    facts = on("lista_robinson", **spanish_call(consents=late))
    assert list_rules(policy, **facts) == [ROBINSON]


def test_a_customer_relationship_does_not_override_lista_robinson(policy: PolicyEngine) -> None:
    recent = Relationship(last_purchase_at=NOON - timedelta(days=10))
    facts = on("lista_robinson", **spanish_call(relationship=recent))
    assert list_rules(policy, **facts) == [ROBINSON]


def test_lista_robinson_not_consulted_denies_with_its_own_reason(policy: PolicyEngine) -> None:
    facts = spanish_call(lists={})
    assert list_rules(policy, **facts) == ["lopdgdd.art23.lista_robinson.copy_missing"]


def test_lista_robinson_sets_no_age_for_its_copy(policy: PolicyEngine) -> None:
    lists = {"lista_robinson": current(day=date(2019, 1, 1))}
    assert list_rules(policy, **spanish_call(lists=lists)) == []


# From midnight in Madrid (23:00 UTC on 6 December, CET), where spanish_call's customer is.
LOPDGDD = local_midnight(date(2018, 12, 7), "Europe/Madrid")


@pytest.mark.parametrize(
    ("at", "expected"),
    [(LOPDGDD - SECOND, []), (LOPDGDD, [ROBINSON]), (LOPDGDD + SECOND, [ROBINSON])],
)
def test_lista_robinson_applies_from_the_lopdgdd(
    policy: PolicyEngine, at: datetime, expected: list[str]
) -> None:
    facts = on("lista_robinson", **spanish_call(at, channel=Channel.EMAIL))
    assert list_rules(policy, **facts) == expected


# the kind on its own


def test_a_rule_with_no_exceptions_denies_a_listed_contact_with_its_identity() -> None:
    params = NotListedParams(list="blocked")
    facts = make_facts(lists={"blocked": current(True)})
    reason = not_listed(facts, params, RULE)
    assert reason is not None
    assert (reason.rule, reason.regime, reason.citation) == ("test.rule", "Test", "Test Act s.1")
    assert reason.message == "The test rule says no. The email address is on the blocked list."


def test_the_relationship_exception_needs_both_periods() -> None:
    with pytest.raises(ValueError, match="needs purchase_within and inquiry_within"):
        NotListedParams(list="x_list", exceptions=("established_business_relationship",))


def test_relationship_periods_without_the_exception_are_refused() -> None:
    with pytest.raises(ValueError, match="belong with the established_business_relationship"):
        NotListedParams(list="x_list", purchase_within="P18M")


PACK = """\
[pack]
name = "test"
title = "Test pack"

[[rules]]
id = "test.listed"
regime = "Test"
jurisdictions = ["US"]
channels = ["phone"]
purposes = ["marketing"]
effective_from = 2020-01-01
requires = "not_listed"
citation = "Test Act s.1"
message = "The test rule."
[rules.params]
{params}
"""


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ('list = "National DNC"', "rules[0].params.list = 'National DNC'"),
        (
            'list = "x_list"\nexceptions = ["good_vibes"]',
            "rules[0].params.exceptions[0] = 'good_vibes'",
        ),
        ('list = "x_list"\nmax_age = "31 days"', "rules[0].params.max_age = '31 days'"),
    ],
)
def test_a_pack_with_bad_list_params_is_refused_naming_line_and_field(
    params: str, where: str
) -> None:
    with pytest.raises(PolicyLoadError) as raised:
        read_pack("test.toml", PACK.format(params=params).encode())
    assert str(raised.value).startswith(f"test.toml:5: {where}")
