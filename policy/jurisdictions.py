"""Where a customer is, widened to every code a rule may name.

Customers are stored with ISO 3166-1 alpha-2 codes ("ES") or ISO 3166-2 subdivision codes
("US-FL", "ES-MD"). Rules name countries, subdivisions or the groups "EU" and "EEA".
``expand`` turns a customer's codes into every code that covers them, so that choosing the
rules for a customer is a set intersection.
"""

import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources

EU = "EU"
EEA = "EEA"
GROUPS = frozenset({EU, EEA})

# ISO 3166-1 alpha-2, the 249 officially assigned codes (the same list as tzdata's
# iso3166.tab; tests/policy/test_jurisdictions.py compares them).
_ALPHA_2_TABLE = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
DE DJ DK DM DO DZ
EC EE EG EH ER ES ET
FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
HK HM HN HR HT HU
ID IE IL IM IN IO IQ IR IS IT
JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ
LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
NA NC NE NF NG NI NL NO NP NR NU NZ
OM
PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA
RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
UA UG UM US UY UZ
VA VC VE VG VI VN VU
WF WS
YE YT
ZA ZM ZW
"""
ISO_3166_1_ALPHA_2 = frozenset(_ALPHA_2_TABLE.split())

# The 27 member states since 1 February 2020, by ISO code (Greece is GR, not the EU's EL).
_EU_TABLE = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
EU_MEMBER_STATES = frozenset(_EU_TABLE.split())
# EEA Agreement: the EU plus these three EFTA states (Switzerland is not in the EEA).
EEA_EFTA_STATES = frozenset({"IS", "LI", "NO"})

# Territories that ISO 3166-1 lists under a code of their own but that are part of a
# country for the law we encode, so that a customer stored as "GP" or "PR" is not outside
# every rule. The EU's outermost regions and Aland are EU territory (TFEU Art 349,
# 355(1), 355(4)); the overseas countries and territories (e.g. PF, NC, AW, GL) are not and
# are left out. ISO 3166-2:US also lists the US outlying areas as subdivisions (US-PR ...).
_ALSO_PART_OF: Mapping[str, tuple[str, ...]] = {
    "GF": ("FR",),
    "GP": ("FR",),
    "MF": ("FR",),
    "MQ": ("FR",),
    "RE": ("FR",),
    "YT": ("FR",),
    "AX": ("FI",),
    "AS": ("US", "US-AS"),
    "GU": ("US", "US-GU"),
    "MP": ("US", "US-MP"),
    "PR": ("US", "US-PR"),
    "UM": ("US", "US-UM"),
    "VI": ("US", "US-VI"),
    "US-AS": ("AS",),
    "US-GU": ("GU",),
    "US-MP": ("MP",),
    "US-PR": ("PR",),
    "US-UM": ("UM",),
    "US-VI": ("VI",),
}

_SHAPE = re.compile(r"(?P<country>[A-Z]{2})(?:-[A-Z0-9]{1,3})?", re.ASCII)


def is_valid_code(code: str, *, allow_groups: bool = False) -> bool:
    """An ISO 3166-1 alpha-2 code, or a subdivision of one in the ISO 3166-2 shape.

    The country part must be an assigned code; the subdivision part is checked for shape
    only (1-3 upper-case letters or digits). ``allow_groups`` also accepts "EU" and "EEA",
    which rules may name but which are not places.
    """
    if allow_groups and code in GROUPS:
        return True
    shape = _SHAPE.fullmatch(code)
    return shape is not None and shape["country"] in ISO_3166_1_ALPHA_2


def expand(codes: Iterable[str]) -> frozenset[str]:
    """Every code that covers these places: each code, its country, and "EU" / "EEA".

    "US-FL" gives {"US-FL", "US"}; "ES-MD" gives {"ES-MD", "ES", "EU", "EEA"}; "NO" gives
    {"NO", "EEA"}. A group given as a place covers itself ("EU" gives {"EU", "EEA"}).
    Raises ``ValueError`` for a code that is neither a valid code nor a group.
    """
    covering: set[str] = set()
    for code in codes:
        covering |= _covering(code)
    return frozenset(covering)


def _covering(code: str) -> set[str]:
    if code == EU:
        return {EU, EEA}
    if code == EEA:
        return {EEA}
    if not is_valid_code(code):
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 or ISO 3166-2 code")
    places = {code, code[:2], *_ALSO_PART_OF.get(code, ())}
    if places & EU_MEMBER_STATES:
        return places | {EU, EEA}
    if places & EEA_EFTA_STATES:
        return places | {EEA}
    return places


@cache
def zones_of(codes: frozenset[str]) -> tuple[str, ...]:
    """Every IANA zone of the countries these codes lie in (a subdivision counts as its
    country; the groups "EU" and "EEA" as no place), from tzdata's ``zone.tab``: where a
    customer may be when nothing more precise is known. Empty if none is known."""
    countries = {code[:2] for code in codes if code not in GROUPS}
    return tuple(
        sorted(zone for country in countries for zone in _zones_by_country().get(country, ()))
    )


@cache
def _zones_by_country() -> Mapping[str, tuple[str, ...]]:
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text()
    zones: dict[str, list[str]] = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            country, _, zone = line.split("\t")[:3]
            zones.setdefault(country, []).append(zone)
    return {country: tuple(found) for country, found in zones.items()}
