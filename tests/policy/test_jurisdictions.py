from importlib.resources import files

import pytest

from policy.jurisdictions import (
    EEA_EFTA_STATES,
    EU_MEMBER_STATES,
    ISO_3166_1_ALPHA_2,
    expand,
    is_valid_code,
    zones_of,
)


def test_a_us_state_expands_to_itself_and_the_us() -> None:
    assert expand(["US-FL"]) == {"US-FL", "US"}


def test_a_spanish_region_expands_to_spain_the_eu_and_the_eea() -> None:
    assert expand(["ES-MD"]) == {"ES-MD", "ES", "EU", "EEA"}


def test_an_eu_country_is_in_the_eu_and_the_eea() -> None:
    assert expand(["ES"]) == {"ES", "EU", "EEA"}


def test_norway_is_in_the_eea_but_not_the_eu() -> None:
    assert expand(["NO"]) == {"NO", "EEA"}


@pytest.mark.parametrize("code", ["CH", "GB"])
def test_switzerland_and_the_uk_are_in_neither_the_eu_nor_the_eea(code: str) -> None:
    assert expand([code]) == {code}


def test_an_outermost_region_with_its_own_code_is_eu_territory() -> None:
    assert expand(["GP"]) == {"GP", "FR", "EU", "EEA"}


def test_an_overseas_territory_outside_the_eu_is_not_eu_territory() -> None:
    assert expand(["PF"]) == {"PF"}


@pytest.mark.parametrize("code", ["PR", "US-PR"])
def test_puerto_rico_is_covered_by_us_rules_under_either_code(code: str) -> None:
    assert expand([code]) == {"PR", "US-PR", "US"}


def test_several_codes_expand_to_the_union() -> None:
    assert expand(["US-FL", "ES"]) == {"US-FL", "US", "ES", "EU", "EEA"}


def test_no_codes_expand_to_nothing() -> None:
    assert expand([]) == frozenset()


def test_a_group_given_as_a_place_covers_itself() -> None:
    assert expand(["EU"]) == {"EU", "EEA"}
    assert expand(["EEA"]) == {"EEA"}


@pytest.mark.parametrize("code", ["XX", "es", "EL", "UK", "US_FL"])
def test_expand_refuses_a_code_that_is_not_iso_3166(code: str) -> None:
    with pytest.raises(ValueError, match=repr(code)):
        expand(["ES", code])


@pytest.mark.parametrize("code", ["ES", "US", "US-FL", "ES-MD", "GB-NIR", "FR-75C", "FI-01"])
def test_valid_iso_3166_codes(code: str) -> None:
    assert is_valid_code(code)


@pytest.mark.parametrize(
    "code",
    ["", "E", "ESP", "es", "Es", "XX", "UK", "EL", "US-", "US-FLAX", "US_FL", "US-fl", "US FL"],
)
def test_invalid_iso_3166_codes(code: str) -> None:
    assert not is_valid_code(code)


def test_groups_are_codes_only_when_asked_for() -> None:
    assert not is_valid_code("EU")
    assert is_valid_code("EU", allow_groups=True)
    assert is_valid_code("EEA", allow_groups=True)
    assert not is_valid_code("EFTA", allow_groups=True)


def test_the_alpha_2_list_is_the_official_one_tzdata_ships() -> None:
    table = (files("tzdata.zoneinfo") / "iso3166.tab").read_text(encoding="utf-8")
    official = {line.split("\t")[0] for line in table.splitlines() if line[:1].isalpha()}
    assert len(official) == 249
    assert official == ISO_3166_1_ALPHA_2


def test_the_eu_has_27_member_states_all_with_iso_codes() -> None:
    assert len(EU_MEMBER_STATES) == 27
    assert EU_MEMBER_STATES <= ISO_3166_1_ALPHA_2
    assert "GB" not in EU_MEMBER_STATES
    assert sorted(EEA_EFTA_STATES) == ["IS", "LI", "NO"]


def test_the_zones_of_a_place_are_its_countrys_and_a_group_has_none() -> None:
    florida = zones_of(frozenset({"US-FL"}))
    assert {"America/New_York", "America/Chicago", "Pacific/Honolulu"} <= set(florida)
    assert zones_of(frozenset({"ES"})) == ("Africa/Ceuta", "Atlantic/Canary", "Europe/Madrid")
    assert zones_of(frozenset({"EU"})) == ()
    assert set(zones_of(frozenset({"DE", "AT"}))) == {
        "Europe/Berlin",
        "Europe/Busingen",
        "Europe/Vienna",
    }
