"""The parameters packs use for the relationship exception, the age of consent and the
annual-notice kind: what loads, and what a bad value is refused with."""

import pytest

from policy.kinds.consents import AgeParams, ConsentParams, NoOptOutParams
from policy.kinds.notices import NoticeWithinParams
from policy.kinds.relationships import EVER
from policy.packs import PolicyLoadError, read_pack
from policy.periods import Period

RULE = """\
[pack]
name = "test"
title = "Test pack"

[[rules]]
id = "test.rule"
regime = "Test"
jurisdictions = ["CA"]
channels = ["email"]
purposes = ["marketing"]
effective_from = 2020-01-01
requires = "{kind}"
citation = "Test Act s.1"
message = "The test rule."
[rules.params]
{params}
"""


def params_of(kind: str, params: str) -> object:
    (rule,) = read_pack("test.toml", RULE.format(kind=kind, params=params).encode()).rules
    return rule.params


def problems(kind: str, params: str) -> str:
    with pytest.raises(PolicyLoadError) as raised:
        params_of(kind, params)
    return str(raised.value)


def test_a_relationship_reads_periods_and_ever() -> None:
    params = params_of(
        "consent", 'purpose = "marketing"\nor_relationship = { purchase = "P2Y", inquiry = "ever" }'
    )
    assert isinstance(params, ConsentParams)
    assert params.or_relationship is not None
    assert params.or_relationship.purchase == Period(years=2)
    assert params.or_relationship.inquiry == EVER


def test_a_relationship_naming_nothing_is_refused() -> None:
    found = problems("consent", 'purpose = "marketing"\nor_relationship = {}')
    assert "test.toml:5: rules[0].params.or_relationship" in found
    assert "name at least one of purchase or inquiry" in found


def test_a_relationship_period_in_words_is_refused() -> None:
    found = problems("no_opt_out", 'purpose = "marketing"\nor_relationship = { purchase = "2y" }')
    assert "rules[0].params.or_relationship.purchase = '2y'" in found
    assert "not an ISO 8601 duration" in found


def test_a_relationship_period_as_a_number_is_refused() -> None:
    found = problems("consent", 'purpose = "marketing"\nor_relationship = { inquiry = 6 }')
    assert "should be text such as 'P2Y' or 'ever', not int" in found


def test_an_unknown_relationship_field_is_refused() -> None:
    found = problems("consent", 'purpose = "marketing"\nor_relationship = { contract = "P2Y" }')
    assert "rules[0].params.or_relationship.contract" in found
    assert "not a field of the pack format" in found


def test_the_channel_opt_out_flag_loads() -> None:
    params = params_of("no_opt_out", 'purpose = "marketing"\nchannel_opt_out = true')
    assert isinstance(params, NoOptOutParams)
    assert params.channel_opt_out


@pytest.mark.parametrize("age", ["0", "22", '"14"'])
def test_a_minimum_age_out_of_range_or_quoted_is_refused(age: str) -> None:
    assert "rules[0].params.min_age" in problems(
        "consent", f'purpose = "marketing"\nmin_age = {age}'
    )


def test_notice_within_needs_a_period() -> None:
    found = problems("notice_within", 'notice_kinds = ["glba_annual"]')
    assert "rules[0].params.period: required, but missing" in found


def test_notice_within_reads_calendar_months() -> None:
    params = params_of("notice_within", 'notice_kinds = ["glba_annual"]\nperiod = "P12M"')
    assert isinstance(params, NoticeWithinParams)
    assert params.period == Period(months=12)


def test_ages_by_place_load_countries_groups_and_subdivisions() -> None:
    params = params_of("consent", 'purpose = "marketing"\nmin_age_in = { EEA = 16, FR = 15 }')
    assert isinstance(params, AgeParams)
    assert params.min_age_for(frozenset({"FR"})) == 15
    assert params.min_age_for(frozenset({"DE"})) == 16
    assert params.min_age_for(frozenset({"US"})) is None
    quebec = params_of("consent", 'purpose = "profiling"\nmin_age_in = { CA = 15, CA-QC = 14 }')
    assert isinstance(quebec, AgeParams)
    assert quebec.min_age_for(frozenset({"CA-QC"})) == 14  # its own entry before its country's
    assert quebec.min_age_for(frozenset({"CA-ON"})) == 15
    assert quebec.min_age_for(frozenset({"CA-QC", "CA-ON"})) == 15  # the highest of the two


@pytest.mark.parametrize("place", ["XX", "fr", "FRA", "XX-QC", "ES-", "ES-MADRID"])
def test_an_age_for_an_unknown_place_is_refused(place: str) -> None:
    found = problems("consent", f'purpose = "marketing"\nmin_age_in = {{ "{place}" = 14 }}')
    assert "rules[0].params.min_age_in" in found


def test_a_list_rule_takes_an_age_for_its_consent_exception() -> None:
    source = 'list = "lista_robinson"\nexceptions = ["consent"]\nmin_age = 14'
    params = params_of("not_listed", source)
    assert isinstance(params, AgeParams)
    assert params.min_age == 14
