"""Benchmark: one in-process decision on the compiled policy tables against the same rules
as a pycasbin ABAC model, in the same run (run by hand: python -m bench.policy).

Both judge the same random facts: customers in the EU, Spain, the US (New York, Texas,
Florida, Maryland, Oklahoma, Mississippi) and Canada; every channel and purpose; consents granted,
withdrawn or objected, written or not, expired, given later, at known and unknown ages, on
consent or on another legal basis; purchases and inquiries at every recency; GLBA and FCRA
notices; Lista Robinson and do-not-call copies listed, clear, missing or stale; STOP
revocations; recent calls; manual and automated dialling; Reg P exceptions and account
numbers in disclosures; send times in every era of the packs' effective dates. Four samples
in five are aimed at one rule, drawn at random (a place, contact and era it covers), so
that every rule applies often; windows and ages cluster near the laws' limits, and a
sample aimed at calling hours mostly falls within 90 minutes of an opening or closing, on
a day with hours of its own (a weekend, a Sunday) half the time there is one.

The casbin side is one policy line per denying rule id (``tcpa.national_dnc.copy_stale``
has its own), each an ``eval()`` of a condition on the request's attributes; one enforcer
per line, since the gate reports every rule that denies. casbin compares flat values only,
so ``subject_of`` precomputes in Python only what it cannot do itself: the expanded
jurisdiction codes (EU, EEA), times as epoch seconds, the seconds since local midnight in
each zone the customer may be in (over all of them, and over those where it is a weekday,
a weekend day, a Sunday or not a Sunday), whole calendar months since the last purchase, inquiry
and annual-notice delivery (calendar months clamp to the month's end), the first notice
delivery at or before send time, a list copy's age in days and its state, the latest
phone/SMS revocation, and the busiest rolling 24 hours of phone/SMS contacts for the
purpose. Every comparison, window length, age and date limit is in the conditions.

Effective dates are judged by the engine on the customer's local date of send_at. The
generator keeps send_at at least two days from every effective date of the loaded rules,
so there the local date and the UTC date casbin compares (``r.sub.day``) agree.

Before timing, the two must agree on every sample (the same denying rule ids, in any
order), every loaded rule must have a casbin line, and every line must have denied at least
one sample and allowed at least one where its rule applied (``PolicyEngine.explain``).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import textwrap
import time
from bisect import bisect_left
from calendar import monthrange
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import casbin
import holidays

from policy.engine import PolicyEngine
from policy.facts import (
    ConsentFact,
    Facts,
    ListFact,
    PastContact,
    Relationship,
    RevocationFact,
)
from policy.jurisdictions import EEA_EFTA_STATES, EU_MEMBER_STATES, expand
from policy.kinds.history import MaxContactsParams
from policy.kinds.hours import WEEKDAYS, LocalHoursParams
from policy.rules import Rule
from policy.vocabulary import (
    Channel,
    ConsentStatus,
    DataCategory,
    LegalException,
    PreferenceStatus,
    Purpose,
    Source,
)

POLICIES = Path(__file__).resolve().parents[1] / "policies"
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
SPEEDUP_TARGET = 25.0
P50_TARGET_US = 20.0

MODEL = """
[request_definition]
r = sub

[policy_definition]
p = rule, cond

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = eval(p.cond)
"""

# Fragments of casbin conditions, shared by the rules below. Commas may appear only inside
# parentheses: casbin splits a policy line on the others.
_PHONE = ("phone", "sms")
_E_MESSAGES = ("email", "sms")
_EVERY_CHANNEL: tuple[str, ...] = ()
_MARKETING = ("marketing",)
# A marketing consent usable at send time: granted, given by then, not expired.
_USABLE = (
    "r.sub.consent == 'granted' and r.sub.consent_from <= r.sub.now "
    "and r.sub.now < r.sub.consent_until and r.sub.consent_basis in ('', 'consent')"
)


def _usable_basis(purpose: str, consent_only: bool = False) -> str:
    """A granted record for a data use, in force at send time: on any basis (GDPR Art 6(1)),
    or on consent only (PIPEDA)."""
    usable = (
        f"r.sub.{purpose} == 'granted' and r.sub.{purpose}_from <= r.sub.now "
        f"and r.sub.now < r.sub.{purpose}_until"
    )
    if consent_only:  # ... and in Quebec given at 14 or older (CQLR c P-39.1 s. 4.1, 14)
        return (
            f"{usable} and r.sub.{purpose}_basis in ('', 'consent') "
            f"and not (r.sub.in_quebec and 0 <= r.sub.{purpose}_age < 14)"
        )
    # Any basis, but a consent given under the age of consent where they live is none.
    return (
        f"{usable} and not (r.sub.{purpose}_basis in ('', 'consent') "
        f"and 0 <= r.sub.{purpose}_age < r.sub.consent_age_here)"
    )


# ... and given at 14 or older, where the age is known (LOPDGDD Art 7).
_USABLE_14 = f"{_USABLE} and not (0 <= r.sub.consent_age < 14)"
# ... or at the age of consent where the customer lives (GDPR Art 8(1)).
_USABLE_AGED = f"{_USABLE} and not (0 <= r.sub.consent_age < r.sub.consent_age_here)"
_REFUSED = "r.sub.consent in ('withdrawn', 'objected')"
_OPTED_IN = "r.sub.channel_status == 'opted_in'"
_OPTED_OUT = "r.sub.channel_status == 'opted_out'"
_BOUGHT_EVER = "r.sub.purchase_months >= 0"
_THIRTY_DAYS = 30 * 86_400


def _bought_or_asked(purchase_months: int, inquiry_months: int | None = None) -> str:
    bought = f"0 <= r.sub.purchase_months < {purchase_months}"
    if inquiry_months is None:
        return f"({bought})"
    return f"({bought} or 0 <= r.sub.inquiry_months < {inquiry_months})"


# FCRA 1022.20(b)(4) and TCPA 64.1200(f)(5): a purchase in 18 months, an inquiry in 3.
_RECENT_18_3 = _bought_or_asked(18, 3)


def _scope(
    place: str | tuple[str, ...],
    channels: tuple[str, ...],
    purposes: tuple[str, ...],
    since: int,
    until: int = 0,
) -> str:
    """Where, which contact and when: the engine's index and effective dates."""
    places = (place,) if isinstance(place, str) else place
    parts = ["(" + " or ".join(f"'{code}' in r.sub.places" for code in places) + ")"]
    if channels:
        parts.append(f"r.sub.channel in {channels!r}")
    parts.append(f"r.sub.purpose in {purposes!r}")
    parts.append(f"r.sub.day >= {since}")
    if until:
        parts.append(f"r.sub.day < {until}")
    return " and ".join(parts)


def _consent_missing(usable: str, relationship: str = "") -> str:
    """Consent with the channel opted in, or else a relationship while nothing was refused."""
    missing = f"not ({usable} and {_OPTED_IN})"
    if not relationship:
        return missing
    return f"{missing} and not (not ({_REFUSED}) and not {_OPTED_OUT} and {relationship})"


def _not_listed(scope: str, exempt: str, list_state: str, stale: str = "") -> dict[str, str]:
    """A list rule's three ids: on the list, no copy loaded, copy too old."""
    prefix = f"{scope} and not ({exempt})"
    found = {
        "": f"{prefix} and {list_state} == 'listed'",
        ".copy_missing": f"{prefix} and {list_state} == 'missing'",
    }
    if stale:
        found[".copy_stale"] = f"{prefix} and {list_state} == 'clear' and {stale}"
    return found


def _outside_weekly_hours(
    holidays_of: str = "",
    breaks: tuple[tuple[float, float], ...] = (),
    **hours: tuple[float, float] | None,
) -> str:
    """Outside the day's hours in some zone, in hours since midnight, each keyword a group
    of days (``weekday``, ``weekend``, ``saturday``, ``sunday``, ``not_sunday``: the zones
    whose local day is in it) and its window, or None for no calls on those days; or on a
    legal holiday of ``holidays_of`` in some zone, or within one of the ``breaks`` (exact
    for a customer of one zone, as every French one here is); no zone known fails closed."""
    closed = f" or '{holidays_of}' in r.sub.holidays" if holidays_of else ""
    inside = " and ".join(
        f"r.sub.{days}_latest < 0"
        if window is None
        else f"r.sub.{days}_earliest >= {window[0] * 3600} and r.sub.{days}_latest < "
        f"{window[1] * 3600}"
        + "".join(
            f" and not (r.sub.{days}_latest >= {start * 3600} and r.sub.{days}_earliest < "
            f"{end * 3600})"
            for start, end in breaks
        )
        for days, window in hours.items()
    )
    return f"(r.sub.local_earliest < 0{closed} or not ({inside}))"


def _outside_hours(opens: int, closes: int) -> str:
    """Outside the hours in some zone the customer may be in; no zone known fails closed."""
    return f"not (r.sub.local_earliest >= {opens * 3600} and r.sub.local_latest < {closes * 3600})"


# Reg P 1016.13-15: the named exceptions a caller may invoke for a disclosure ("" for none).
_EVERY_EXCEPTION = tuple(str(exception) for exception in LegalException)
# Those whose disclosures are by definition not for marketing (1016.14, 1016.15(a)(2)-(7)).
_NOT_FOR_MARKETING = (
    "processing_servicing",
    "fraud_security",
    "risk_control",
    "interest_or_fiduciary",
    "audit_and_rating",
    "law_enforcement",
    "consumer_reporting",
    "corporate_transaction",
    "legal_process",
)


def _unless_under(exceptions: tuple[str, ...]) -> str:
    return f"r.sub.exception not in {exceptions!r}"


_US_SHARING = _scope("US", _EVERY_CHANNEL, ("share_third_parties",), 20010701)
# ePrivacy Art 13(3) where no pack encodes the member state's choice: the EEA but Spain.
_EEA_BUT_SPAIN = tuple(sorted((EU_MEMBER_STATES | EEA_EFTA_STATES) - {"ES"}))
# Disclosures under these exceptions carry their own basis (gdpr.toml, pipeda.toml).
_LAW_OR_REQUEST = (
    "service_provider",
    "processing_servicing",
    "consent_or_direction",
    "fraud_security",
    "law_enforcement",
    "legal_process",
)
_GDPR_OWN_BASIS = (*_LAW_OR_REQUEST, "audit_and_rating")
_PIPEDA_NO_CONSENT = (*_LAW_OR_REQUEST, "corporate_transaction")
# Each data use a check names, by the attribute that holds its record's status.
_DATA_USES = {
    "profiling": "profiling",
    "share_affiliates": "affiliates",
    "share_third_parties": "third_parties",
}
_US_PHONE = ("US", _PHONE, _MARKETING)
_ES_ROBINSON = _scope("ES", ("phone", "sms", "email"), _MARKETING, 20181207)
_US_DNC = _scope(*_US_PHONE, 20031001)
_ON_INTERNAL_DNC = "r.sub.internal_dnc == 'listed'"
_PHONE_ONLY = ("phone",)
_GB_CALLS = _scope("GB", _PHONE_ONLY, _MARKETING, 20031211)
# ... and given at 13 or older, where the age is known (UK GDPR Art 8(1), DPA 2018 s. 9).
_USABLE_13 = f"{_USABLE} and not (0 <= r.sub.consent_age < 13)"


def _state_calls(place: str, since: int, condition: str) -> str:
    """A US state's rule on marketing calls and texts: where, from when, and what denies."""
    return f"{_scope(place, _PHONE, _MARKETING, since)} and {condition}"


_THREE_IN_24H = "r.sub.calls_24h >= 3"  # the state caps' three calls in any 24 hours

# Every rule of policies/*.toml as a casbin condition, by the rule id it denies with.
CONDITIONS: dict[str, str] = {
    "canspam.opt_out": _scope("US", ("email",), _MARKETING, 20040101)
    + f" and ({_REFUSED} or {_OPTED_OUT})",
    "casl.s6.consent": _scope("CA", _E_MESSAGES, _MARKETING, 20140701)
    + " and "
    + _consent_missing(_USABLE, _bought_or_asked(24, 6)),
    "crtc.calling_hours": _scope("CA", _PHONE_ONLY, _MARKETING, 20080930)
    + " and "
    + _outside_weekly_hours(weekday=(9, 21.5), weekend=(10, 18)),
    **{
        f"crtc.national_dncl{suffix}": condition
        for suffix, condition in _not_listed(
            _scope("CA", _PHONE_ONLY, _MARKETING, 20080930),
            f"{_USABLE} or (not ({_ON_INTERNAL_DNC}) and {_bought_or_asked(18, 6)})",
            "r.sub.ca_dncl",
            stale="r.sub.ca_dncl_age > 31",
        ).items()
    },
    "crtc.internal_dncl": _scope("CA", _PHONE_ONLY, _MARKETING, 20080930)
    + f" and {_ON_INTERNAL_DNC}",
    "crtc.adad.express_consent": _scope("CA", _PHONE_ONLY, _MARKETING, 20080930)
    + f" and r.sub.automated and not ({_USABLE})",
    "casl.s11.unsubscribe": _scope("CA", _E_MESSAGES, _MARKETING, 20140701)
    + f" and ({_REFUSED} or {_OPTED_OUT})",
    "fcra.affiliate_marketing.opt_out": _scope(
        "US", _EVERY_CHANNEL, ("share_affiliates",), 20081001
    )
    + f" and r.sub.affiliates in ('withdrawn', 'objected') and not {_RECENT_18_3}",
    "fcra.affiliate_marketing.notice": _scope("US", _EVERY_CHANNEL, ("share_affiliates",), 20081001)
    + " and not (r.sub.fcra_notice_at >= 0 and "
    + f"r.sub.now - r.sub.fcra_notice_at >= {_THIRTY_DAYS}) and not {_RECENT_18_3}",
    "eprivacy.art13_1.e_marketing_consent": _scope("EEA", _E_MESSAGES, _MARKETING, 20031031)
    + " and "
    + _consent_missing(_USABLE_AGED, f"({_BOUGHT_EVER})"),
    "gdpr.art21.marketing_objection": _scope(
        "EEA", _EVERY_CHANNEL, ("marketing", "profiling"), 20180525
    )
    + " and r.sub.consent == 'objected'",
    "eprivacy.art13_1.automated_calls": _scope(_EEA_BUT_SPAIN, _PHONE_ONLY, _MARKETING, 20031031)
    + " and r.sub.automated and "
    + _consent_missing(_USABLE_AGED),
    "eprivacy.art13_3.marketing_calls": _scope(_EEA_BUT_SPAIN, ("phone",), _MARKETING, 20031031)
    + " and "
    + _consent_missing(_USABLE_AGED),
    **{
        f"gdpr.art6.lawful_basis.{purpose}": _scope("EEA", _EVERY_CHANNEL, (purpose,), 20180525)
        + f" and not ({_usable_basis(attribute)})"
        + (f" and {_unless_under(_GDPR_OWN_BASIS)}" if purpose == "share_third_parties" else "")
        for purpose, attribute in _DATA_USES.items()
    },
    **{
        f"pipeda.principle3.consent.{purpose}": _scope("CA", _EVERY_CHANNEL, (purpose,), 20040101)
        + f" and not ({_usable_basis(attribute, consent_only=True)})"
        + (f" and {_unless_under(_PIPEDA_NO_CONSENT)}" if purpose == "share_third_parties" else "")
        for purpose, attribute in _DATA_USES.items()
    },
    "glba.opt_out.third_party_sharing": f"{_US_SHARING} and {_unless_under(_EVERY_EXCEPTION)}"
    + " and r.sub.third_parties in ('withdrawn', 'objected')",
    "glba.initial_notice.opt_out_window": f"{_US_SHARING} and "
    + _unless_under(_EVERY_EXCEPTION)
    + " and not (r.sub.glba_notice_at >= 0 and "
    + f"r.sub.now - r.sub.glba_notice_at >= {_THIRTY_DAYS})",
    "glba.annual_notice": f"{_US_SHARING} and {_unless_under(_EVERY_EXCEPTION)}"
    + " and not (0 <= r.sub.privacy_notice_months < 12)",
    "glba.service_providers.initial_notice": f"{_US_SHARING} and "
    + "r.sub.exception in ('service_provider', 'joint_marketing') and r.sub.glba_notice_at < 0",
    "glba.account_numbers": f"{_US_SHARING} and {_unless_under(_NOT_FOR_MARKETING)}"
    + " and 'account_number' in r.sub.data_categories",
    "lssi.art21.e_marketing_consent_2002": _scope(
        "ES", _E_MESSAGES, _MARKETING, 20021012, until=20031105
    )
    + " and "
    + _consent_missing(_USABLE_14),
    "lssi.art21.e_marketing_consent": _scope("ES", _E_MESSAGES, _MARKETING, 20031105)
    + " and "
    + _consent_missing(_USABLE_14, f"({_BOUGHT_EVER})"),
    "lopdgdd.art23.lista_robinson_post": _scope("ES", ("post",), _MARKETING, 20181207)
    + f" and not ({_USABLE_14})",
    "lgtel.art66_1_a.automated_calls": _scope("ES", _PHONE_ONLY, _MARKETING, 20220630)
    + " and r.sub.automated and "
    + _consent_missing(_USABLE_14),
    "lgtel.art66_1_b.marketing_calls": _scope("ES", ("phone",), _MARKETING, 20230629)
    + " and "
    + _consent_missing(_USABLE_14, _bought_or_asked(12)),
    **{
        f"lopdgdd.art23.lista_robinson{suffix}": condition
        for suffix, condition in _not_listed(
            _ES_ROBINSON, _USABLE_14, "r.sub.lista_robinson"
        ).items()
    },
    "pecr.reg22.e_marketing_consent": _scope("GB", _E_MESSAGES, _MARKETING, 20031211)
    + " and "
    + _consent_missing(_USABLE_13, f"({_BOUGHT_EVER})"),
    "pecr.reg19.automated_calls": f"{_GB_CALLS} and r.sub.automated and "
    + _consent_missing(_USABLE_13),
    **{
        f"pecr.reg21.tps{suffix}": condition
        for suffix, condition in _not_listed(
            _GB_CALLS, _USABLE_13, "r.sub.uk_tps", stale="r.sub.uk_tps_age > 28"
        ).items()
    },
    "pecr.reg21.internal_dnc": f"{_GB_CALLS} and {_ON_INTERNAL_DNC}",
    "uk_gdpr.art21.marketing_objection": _scope(
        "GB", _EVERY_CHANNEL, ("marketing", "profiling"), 20180525
    )
    + " and r.sub.consent == 'objected'",
    **{
        f"uk_gdpr.art6.lawful_basis.{purpose}": _scope("GB", _EVERY_CHANNEL, (purpose,), 20180525)
        + f" and not ({_usable_basis(attribute)})"
        + (f" and {_unless_under(_GDPR_OWN_BASIS)}" if purpose == "share_third_parties" else "")
        for purpose, attribute in _DATA_USES.items()
    },
    "tcpa.calling_hours": _scope(*_US_PHONE, 19921220) + " and " + _outside_hours(8, 21),
    "tcpa.written_consent": _scope(*_US_PHONE, 20131016)
    + f" and r.sub.automated and not ({_USABLE} and r.sub.consent_written)",
    "tcpa.revocation": _scope(*_US_PHONE, 20250411)
    + " and r.sub.revoked_at >= 0 and not (r.sub.consent == 'granted' and "
    + "r.sub.revoked_at < r.sub.consent_from <= r.sub.now and r.sub.now < r.sub.consent_until "
    + "and r.sub.consent_basis in ('', 'consent'))",
    **{
        f"tcpa.national_dnc{suffix}": condition
        for suffix, condition in _not_listed(
            _US_DNC,
            f"({_USABLE} and r.sub.consent_written) "
            f"or (not ({_ON_INTERNAL_DNC}) and {_RECENT_18_3})",
            "r.sub.national_dnc",
            stale="r.sub.national_dnc_age > 31",
        ).items()
    },
    "tcpa.internal_dnc": _scope(*_US_PHONE, 19921220) + f" and {_ON_INTERNAL_DNC}",
    "us_fl.calling_hours": _state_calls("US-FL", 20210701, _outside_hours(8, 20)),
    "us_ok.calling_hours": _state_calls("US-OK", 20221101, _outside_hours(8, 20)),
    "us_md.calling_hours": _state_calls("US-MD", 20240101, _outside_hours(8, 20)),
    "us_tx.calling_hours": _state_calls(
        "US-TX", 20090401, _outside_weekly_hours(not_sunday=(9, 21), sunday=(12, 21))
    ),
    "us_ms.calling_hours": _state_calls(
        "US-MS", 20030701, _outside_weekly_hours(not_sunday=(8, 20), sunday=None)
    ),
    "us_ut.calling_hours": _state_calls(
        "US-UT", 20040503, _outside_weekly_hours("US-UT", not_sunday=(8, 21), sunday=None)
    ),
    "us_ri.calling_hours": _state_calls(
        "US-RI",
        19990101,
        _outside_weekly_hours("US-RI", weekday=(9, 18), saturday=(10, 17), sunday=None),
    ),
    "us_la.calling_hours": _state_calls(
        "US-LA", 19910101, _outside_weekly_hours("US-LA", not_sunday=(8, 20), sunday=None)
    ),
    "us_al.calling_hours": _state_calls(
        "US-AL", 20241127, _outside_weekly_hours("US-AL", not_sunday=(8, 20), sunday=None)
    ),
    "us_wa.calling_hours": _state_calls("US-WA", 20220609, _outside_hours(8, 20)),
    "us_ma.calling_hours": _state_calls("US-MA", 20030101, _outside_hours(8, 20)),
    "us_ct.calling_hours": _state_calls("US-CT", 20231001, _outside_hours(9, 20)),
    "us_or.calling_hours": _state_calls("US-OR", 20260101, _outside_hours(8, 20)),
    "fr.d223_9.calling_hours": _scope("FR", _PHONE_ONLY, _MARKETING, 20230301)
    + " and "
    + _outside_weekly_hours("FR", ((13, 14),), weekday=(10, 20), weekend=None),
    "fr.d223_9.calls_per_30_days": _scope("FR", _PHONE_ONLY, _MARKETING, 20230301)
    + " and r.sub.calls_30d >= 4",
    "us_fl.calls_per_24h": _state_calls("US-FL", 20210701, _THREE_IN_24H),
    "us_ok.calls_per_24h": _state_calls("US-OK", 20221101, _THREE_IN_24H),
    "us_md.calls_per_24h": _state_calls("US-MD", 20240101, _THREE_IN_24H),
    "us_or.calls_per_24h": _state_calls("US-OR", 20260101, _THREE_IN_24H),
}
POLICY = "\n".join(f"p, {rule}, {condition}" for rule, condition in CONDITIONS.items())

_NONE = -1  # "nothing on record" for the numeric attributes; real values are never negative


@dataclass(frozen=True)
class Subject:
    """The request as casbin sees it: flat attributes derived from the facts."""

    places: frozenset[str]  # the customer's codes with the groups that cover them
    channel: str  # "" for a data-use check
    purpose: str
    exception: str  # the Reg P exception the caller invokes, "" for none
    data_categories: frozenset[str]  # what the disclosure includes, as the caller says
    day: int  # UTC date of send_at as YYYYMMDD
    now: float  # send_at, epoch seconds
    automated: bool
    channel_status: str
    consent: str  # the marketing consent's status, or "none"
    consent_from: float  # captured_at, epoch seconds
    consent_until: float  # expires_at, epoch seconds; infinity if it never expires
    consent_written: bool
    consent_age: int  # age at capture, or _NONE if unknown
    consent_basis: str  # the record's legal_basis, "" if it names none (read as consent)
    # GDPR Art 8(1): the highest age of consent among the customer's EEA places, or _NONE.
    consent_age_here: int
    in_quebec: bool
    # Each data use's record: its status, or "none"; captured_at and expires_at as above.
    profiling: str
    profiling_from: float
    profiling_until: float
    profiling_basis: str
    profiling_age: int
    affiliates: str  # share_affiliates
    affiliates_from: float
    affiliates_until: float
    affiliates_basis: str
    affiliates_age: int
    third_parties: str  # share_third_parties
    third_parties_from: float
    third_parties_until: float
    third_parties_basis: str
    third_parties_age: int
    purchase_months: int  # whole calendar months since the last purchase, or _NONE
    inquiry_months: int  # the same for the last inquiry
    glba_notice_at: float  # first glba_initial delivery by send time, or _NONE
    fcra_notice_at: float  # first fcra_affiliate delivery by send time, or _NONE
    privacy_notice_months: int  # months since the last glba_initial/annual, or _NONE
    lista_robinson: str  # "missing", "listed" or "clear"
    national_dnc: str
    national_dnc_age: int  # days from the copy's source date to the UTC date of send_at
    internal_dnc: str
    revoked_at: float  # latest phone/SMS revocation recorded, or _NONE
    calls_24h: int  # phone/SMS contacts for the purpose in the busiest 24 h around send_at
    calls_30d: int  # phone calls for the purpose in the busiest 30 days around send_at
    local_earliest: float  # earliest seconds since local midnight over the customer's zones
    local_latest: float  # latest; -1 and 86400 when no zone is known (fail closed)
    # The same over the zones where it is a weekday, and over those where it is a weekend
    # day; 86400 and -1 when there is none, so that a comparison holds for no zone at all.
    weekday_earliest: float
    weekday_latest: float
    weekend_earliest: float
    weekend_latest: float
    saturday_earliest: float  # over the zones where it is a Saturday
    saturday_latest: float
    sunday_earliest: float  # and over the zones where it is a Sunday, and where it is not
    sunday_latest: float
    not_sunday_earliest: float
    not_sunday_latest: float
    holidays: tuple[str, ...]  # the codes of _HOLIDAYS whose legal holiday it is in some zone
    ca_dncl: str  # Canada's National DNCL copy, as national_dnc
    ca_dncl_age: int
    uk_tps: str  # the UK's Telephone Preference Service register, as national_dnc
    uk_tps_age: int


def subject_of(facts: Facts) -> Subject:
    send_at = facts.send_at
    marketing = facts.consents.get(Purpose.MARKETING)
    relationship = facts.relationship
    earliest, latest = _local_seconds(send_at, facts.time_zones)
    national = facts.lists.get("national_dnc")
    canadian = facts.lists.get("ca_national_dncl")
    british = facts.lists.get("uk_tps")
    weekday = _local_seconds_on(send_at, facts.time_zones, _MONDAY_TO_FRIDAY)
    weekend = _local_seconds_on(send_at, facts.time_zones, _SATURDAY_AND_SUNDAY)
    saturday = _local_seconds_on(send_at, facts.time_zones, _SATURDAY)
    sunday = _local_seconds_on(send_at, facts.time_zones, _SUNDAY)
    not_sunday = _local_seconds_on(send_at, facts.time_zones, _MONDAY_TO_SATURDAY)
    return Subject(
        places=expand(facts.jurisdictions),
        channel=str(facts.channel or ""),
        purpose=str(facts.purpose),
        exception=str(facts.exception or ""),
        data_categories=frozenset(str(category) for category in facts.data_categories),
        day=int(send_at.astimezone(UTC).strftime("%Y%m%d")),
        now=send_at.timestamp(),
        automated=facts.automated,
        channel_status=str(facts.channel_status),
        consent=_status(marketing),
        consent_from=marketing.captured_at.timestamp() if marketing else _NONE,
        consent_until=(
            marketing.expires_at.timestamp() if marketing and marketing.expires_at else float("inf")
        ),
        consent_written=marketing is not None and marketing.written,
        consent_age=_NONE
        if marketing is None or marketing.age_at_capture is None
        else marketing.age_at_capture,
        consent_basis=(marketing.legal_basis or "") if marketing is not None else "",
        consent_age_here=_age_of_consent(facts.jurisdictions),
        in_quebec="CA-QC" in facts.jurisdictions,
        **_record("profiling", facts.consents.get(Purpose.PROFILING)),
        **_record("affiliates", facts.consents.get(Purpose.SHARE_AFFILIATES)),
        **_record("third_parties", facts.consents.get(Purpose.SHARE_THIRD_PARTIES)),
        purchase_months=_months_since(relationship.last_purchase_at, send_at),
        inquiry_months=_months_since(relationship.last_inquiry_at, send_at),
        glba_notice_at=_first_delivery(facts, ("glba_initial",)),
        fcra_notice_at=_first_delivery(facts, ("fcra_affiliate",)),
        privacy_notice_months=_months_since(
            _last_delivery(facts, ("glba_initial", "glba_annual")), send_at
        ),
        lista_robinson=_list_state(facts.lists.get("lista_robinson")),
        national_dnc=_list_state(national),
        national_dnc_age=_copy_age(national, send_at),
        internal_dnc=_list_state(facts.lists.get("internal_dnc")),
        revoked_at=max(
            (r.recorded_at.timestamp() for r in facts.revocations if r.channel in _PHONE),
            default=_NONE,
        ),
        calls_24h=_busiest(facts, timedelta(hours=24), _PHONE),
        calls_30d=_busiest(facts, timedelta(days=30), _PHONE_ONLY),
        local_earliest=earliest,
        local_latest=latest,
        weekday_earliest=weekday[0],
        weekday_latest=weekday[1],
        weekend_earliest=weekend[0],
        weekend_latest=weekend[1],
        saturday_earliest=saturday[0],
        saturday_latest=saturday[1],
        sunday_earliest=sunday[0],
        sunday_latest=sunday[1],
        not_sunday_earliest=not_sunday[0],
        not_sunday_latest=not_sunday[1],
        holidays=_holidays_in(send_at, facts.time_zones),
        ca_dncl=_list_state(canadian),
        ca_dncl_age=_copy_age(canadian, send_at),
        uk_tps=_list_state(british),
        uk_tps_age=_copy_age(british, send_at),
    )


def _status(record: ConsentFact | None) -> str:
    return "none" if record is None else str(record.status)


def _record(name: str, record: ConsentFact | None) -> dict[str, str | float | int]:
    """A record's status, captured_at and expires_at as the attributes ``name``, ``name_from``
    and ``name_until`` (infinity if it never expires)."""
    expires = record.expires_at if record is not None else None
    return {
        name: _status(record),
        f"{name}_from": record.captured_at.timestamp() if record is not None else _NONE,
        f"{name}_until": expires.timestamp() if expires is not None else float("inf"),
        f"{name}_basis": (record.legal_basis or "") if record is not None else "",
        f"{name}_age": _NONE
        if record is None or record.age_at_capture is None
        else record.age_at_capture,
    }


# GDPR Art 8(1): 16, or the lower age the state chose.
_AGE_OF_CONSENT = {
    **dict.fromkeys(["BE", "DK", "EE", "FI", "LV", "MT", "PT", "SE", "IS", "NO"], 13),
    **dict.fromkeys(["AT", "BG", "CY", "ES", "IT", "LT"], 14),
    **dict.fromkeys(["CZ", "FR", "GR", "SI"], 15),
}


def _age_of_consent(codes: frozenset[str]) -> int:
    """The highest age over the codes in the EEA: their state's, else the EEA's 16; in the
    UK 13 (UK GDPR Art 8(1), DPA 2018 s. 9)."""
    ages = []
    for code in codes:
        places = expand((code,))
        if "GB" in places:
            ages.append(13)
        if "EEA" in places:
            named = [_AGE_OF_CONSENT[place] for place in places if place in _AGE_OF_CONSENT]
            ages.append(max(named, default=16))
    return max(ages, default=_NONE)


def _list_state(copy: ListFact | None) -> str:
    if copy is None:
        return "missing"
    return "listed" if copy.listed else "clear"


def _months_since(then: datetime | None, now: datetime) -> int:
    """Whole calendar months from ``then`` to ``now``; _NONE if none, or after ``now``."""
    if then is None or then > now:
        return _NONE
    months = (now.year - then.year) * 12 + now.month - then.month
    return months - 1 if _add_months(then, months) > now else months


def _add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later, clamped to the month's last day."""
    year, index = divmod(moment.year * 12 + moment.month - 1 + months, 12)
    day = min(moment.day, monthrange(year, index + 1)[1])
    return moment.replace(year=year, month=index + 1, day=day)


def _deliveries(facts: Facts, kinds: Iterable[str]) -> list[datetime]:
    return [at for kind in kinds for at in facts.notices.get(kind, ()) if at <= facts.send_at]


def _first_delivery(facts: Facts, kinds: Iterable[str]) -> float:
    return min((at.timestamp() for at in _deliveries(facts, kinds)), default=_NONE)


def _last_delivery(facts: Facts, kinds: Iterable[str]) -> datetime | None:
    return max(_deliveries(facts, kinds), default=None)


def _busiest(facts: Facts, day: timedelta, channels: tuple[str, ...]) -> int:
    """The most contacts by ``channels`` for the purpose in one window [a, a + ``day``)
    holding send_at: the busiest starts at send_at or at a contact in the ``day`` before.
    Attempts count: a contact reported failed (not ``reserved``) too."""
    at = facts.send_at
    times = sorted(
        c.send_at
        for c in facts.recent_contacts
        if c.channel in channels and c.purpose is facts.purpose
    )
    starts = [x for x in times if at - day < x <= at] + [at]
    return max(bisect_left(times, a + day) - bisect_left(times, a) for a in starts)


def _local_seconds(send_at: datetime, zones: Sequence[str]) -> tuple[float, float]:
    """Earliest and latest seconds since local midnight over the zones."""
    if not zones:
        return -1.0, 86_400.0
    seconds = [
        (local := send_at.astimezone(ZoneInfo(zone))).hour * 3600
        + local.minute * 60
        + local.second
        + local.microsecond / 1e6
        for zone in zones
    ]
    return min(seconds), max(seconds)


_MONDAY_TO_FRIDAY = frozenset(range(5))  # date.weekday() numbers
_SATURDAY_AND_SUNDAY = frozenset({5, 6})
_SATURDAY = frozenset({5})
_SUNDAY = frozenset({6})
_MONDAY_TO_SATURDAY = frozenset(range(6))


# The state calendars the hours rules close, each with the yearly dates the package lacks
# (La. R.S. 1:55(A)(1): 8 January, 30 August, 1 November).
_HOLIDAYS: dict[str, tuple[holidays.HolidayBase, frozenset[tuple[int, int]]]] = {
    "US-UT": (holidays.country_holidays("US", subdiv="UT"), frozenset()),
    "US-RI": (holidays.country_holidays("US", subdiv="RI"), frozenset()),
    "US-LA": (holidays.country_holidays("US", subdiv="LA"), frozenset({(1, 8), (8, 30), (11, 1)})),
    "US-AL": (holidays.country_holidays("US", subdiv="AL"), frozenset()),
    "FR": (holidays.country_holidays("FR"), frozenset()),
}


def _holidays_in(send_at: datetime, zones: Sequence[str]) -> tuple[str, ...]:
    days = {send_at.astimezone(ZoneInfo(zone)).date() for zone in zones}
    return tuple(
        code
        for code, (calendar, fixed) in _HOLIDAYS.items()
        if any(day in calendar or (day.month, day.day) in fixed for day in days)
    )


def _local_seconds_on(
    send_at: datetime, zones: Sequence[str], days: frozenset[int]
) -> tuple[float, float]:
    """Earliest and latest seconds since local midnight over the zones whose local day is
    one of ``days``; 86400 and -1 when there is no such zone."""
    locals_ = [send_at.astimezone(ZoneInfo(zone)) for zone in zones]
    picked = [local for local in locals_ if local.weekday() in days]
    if not picked:
        return 86_400.0, -1.0
    seconds = [
        local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        for local in picked
    ]
    return min(seconds), max(seconds)


def _copy_age(copy: ListFact | None, send_at: datetime) -> int:
    """Days from the copy's source date to the UTC date of send_at."""
    return (send_at.astimezone(UTC).date() - copy.source_date).days if copy else _NONE


# The facts generator. Each customer is placed in one of these, with the zones it may be in.
_PLACES: tuple[tuple[str, ...], ...] = (
    ("FR",), ("DE",), ("ES",), ("ES",), ("ES",), ("ES",), ("US-NY",), ("US-TX",), ("US-FL",),
    ("US-FL",), ("US-MD",), ("US-MD",), ("US-OK",), ("US-OK",), ("CA",), ("CA",),
    ("US-FL", "US-NY"), ("BE",), ("BE", "DE"), ("US-MS",), ("CA-QC",), ("US-UT",),
    ("US-RI",), ("US-LA",), ("US-WA",), ("US-MA",), ("US-CT",), ("US-AL",), ("US-OR",),
    ("GB",), ("GB-NIR",),
)  # fmt: skip
_ZONES = {
    "FR": ("Europe/Paris",),
    "DE": ("Europe/Berlin",),
    "BE": ("Europe/Brussels",),
    "ES": ("Europe/Madrid", "Atlantic/Canary"),
    "US-NY": ("America/New_York",),
    "US-TX": ("America/Chicago", "America/Denver"),
    "US-FL": ("America/New_York", "America/Chicago"),
    "US-MD": ("America/New_York",),
    "US-OK": ("America/Chicago",),
    "US-MS": ("America/Chicago",),
    "US-UT": ("America/Denver",),
    "US-RI": ("America/New_York",),
    "US-LA": ("America/Chicago",),
    "US-WA": ("America/Los_Angeles",),
    "US-MA": ("America/New_York",),
    "US-CT": ("America/New_York",),
    "US-AL": ("America/Chicago",),
    "US-OR": ("America/Los_Angeles", "America/Boise"),  # Malheur County keeps Mountain time
    "GB": ("Europe/London",),
    "GB-NIR": ("Europe/London",),
    "CA": ("America/Toronto", "America/Vancouver", "America/Halifax"),
    "CA-QC": ("America/Toronto",),
}
_PURPOSES = (
    (Purpose.MARKETING, 55),
    (Purpose.PROFILING, 7),
    (Purpose.SHARE_THIRD_PARTIES, 15),
    (Purpose.SHARE_AFFILIATES, 15),
    (Purpose.SERVICE, 4),
)
_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PHONE, Channel.POST, Channel.PUSH)
_CHANNEL_WEIGHTS = (3, 3, 4, 1, 1)
_MARGIN = timedelta(days=2)  # from every effective date: local and UTC dates agree
_FIRST_DAY = date(2000, 1, 1)  # the earliest send date: only the 1992 TCPA rules apply then


def eras(rules: Iterable[Rule]) -> list[tuple[date, date]]:
    """Date ranges of send_at between effective dates, each kept clear of its ends."""
    edges = sorted(
        {_FIRST_DAY, NOW.date()}
        | {day for rule in rules for day in (rule.effective_from, rule.effective_until) if day}
    )
    edges = [day for day in edges if _FIRST_DAY <= day <= NOW.date()]
    return [
        (start + _MARGIN, end - _MARGIN)
        for start, end in pairwise(edges)
        if end - start >= 2 * _MARGIN
    ]


def _send_time(rng: random.Random, periods: Sequence[tuple[date, date]]) -> datetime:
    """Half the time the latest of the eras; otherwise any, each as likely."""
    first, last = periods[-1] if rng.random() < 0.5 else rng.choice(periods)
    day = first + timedelta(days=rng.randint(0, (last - first).days))
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return midnight + timedelta(seconds=rng.uniform(0, 86_400))


def _days(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(days=rng.uniform(low, high))


def _near(rng: random.Random, days: float, spread: float = 3) -> timedelta:
    """About ``days`` ago, within ``spread`` days either side: the edges of the windows."""
    return timedelta(days=days + rng.uniform(-spread, spread))


def _around_months(rng: random.Random, months: Sequence[int]) -> timedelta:
    return _near(rng, rng.choice(months) * 30.44, spread=6)


def _consent(
    rng: random.Random, send_at: datetime, status: ConsentStatus, places: tuple[str, ...]
) -> ConsentFact:
    captured = send_at - _days(rng, 0.01, 1500)
    if rng.random() < 0.07:  # recorded after the send time: not a prior consent
        captured = send_at + _days(rng, 0.01, 30)
    expires = None
    if rng.random() < 0.2:  # some expired before the send time, some still running
        expires = send_at + rng.choice([_days(rng, -200, 200), _days(rng, -1, 1)])
    age = rng.choice([None, None, None, 12, 13, 14, 15, 16, 19, 35])
    here = _age_of_consent(frozenset(places))
    if here != _NONE and rng.random() < 0.3:  # a year either side of the age where they live
        age = here + rng.choice([-1, 0])
    basis = rng.choice([None, None, None, "consent", "legitimate_interests", "contract"])
    return ConsentFact(status, captured, expires, rng.random() < 0.5, age, basis)


def _status_choice(rng: random.Random) -> ConsentStatus:
    return rng.choices(list(ConsentStatus), weights=[7, 2, 2])[0]


def _dealing(
    rng: random.Random, send_at: datetime, share: float, days: float, edges: Sequence[int]
) -> datetime | None:
    """A purchase or inquiry: any time before, near one of the laws' month limits, or later."""
    if rng.random() >= share:
        return None
    if rng.random() < 0.05:  # recorded later than the send time: not a dealing at it
        return send_at + _days(rng, 0.01, 60)
    if rng.random() < 0.5:
        return send_at - _around_months(rng, edges)
    return send_at - _days(rng, 0.01, days)


def _notices(rng: random.Random, send_at: datetime) -> dict[str, tuple[datetime, ...]]:
    notices = {}
    if rng.random() < 0.75:  # within the 30-day window, after it, near and after 12 months
        notices["glba_initial"] = tuple(
            send_at
            - rng.choice(
                [
                    _days(rng, 0.01, 60),
                    _near(rng, 30),
                    _around_months(rng, [12]),
                    _days(rng, 60, 800),
                ]
            )
            for _ in range(rng.randint(1, 2))
        )
    if rng.random() < 0.35:
        notices["glba_annual"] = (
            send_at - rng.choice([_days(rng, 0.01, 700), _around_months(rng, [12])]),
        )
    if rng.random() < 0.65:
        notices["fcra_affiliate"] = (send_at - rng.choice([_days(rng, 0.01, 70), _near(rng, 30)]),)
    if notices and rng.random() < 0.08:  # a delivery after the send time does not count
        kind = rng.choice(sorted(notices))
        notices[kind] = (send_at + _days(rng, 0.01, 30),)
    return notices


def _lists(rng: random.Random, send_at: datetime) -> dict[str, ListFact]:
    today = send_at.astimezone(UTC).date()
    lists = {}
    if rng.random() < 0.8:
        lists["lista_robinson"] = ListFact(today - timedelta(days=rng.randint(0, 90)),
                                           listed=rng.random() < 0.5)  # fmt: skip
    if rng.random() < 0.8:  # up to 70 days old: fresh and stale copies of the 31-day limit
        age = rng.choice([rng.randint(0, 70), rng.randint(29, 34)])
        lists["national_dnc"] = ListFact(today - timedelta(days=age),
                                         listed=rng.random() < 0.4)  # fmt: skip
    if rng.random() < 0.8:
        age = rng.choice([rng.randint(0, 70), rng.randint(29, 34)])
        lists["ca_national_dncl"] = ListFact(today - timedelta(days=age),
                                             listed=rng.random() < 0.4)  # fmt: skip
    if rng.random() < 0.8:  # fresh and stale copies of the 28-day limit
        age = rng.choice([rng.randint(0, 60), rng.randint(26, 31)])
        lists["uk_tps"] = ListFact(today - timedelta(days=age), listed=rng.random() < 0.4)
    if rng.random() < 0.5:
        lists["internal_dnc"] = ListFact(today - timedelta(days=rng.randint(0, 400)),
                                         listed=rng.random() < 0.35)  # fmt: skip
    return lists


def _revocations(
    rng: random.Random, send_at: datetime, consent: ConsentFact | None
) -> tuple[RevocationFact, ...]:
    """STOPs on any channel, some just before or after a consent that may supersede them."""
    if rng.random() >= 0.35:
        return ()
    found = []
    for _ in range(rng.randint(1, 2)):
        recorded = send_at - _days(rng, -5, 400)  # some recorded after the send time
        if consent is not None and rng.random() < 0.4:
            recorded = consent.captured_at + _days(rng, -2, 2)
        channel = rng.choice([Channel.SMS, Channel.PHONE, Channel.EMAIL])
        words = rng.choice(["STOP", "stop please", "UNSUBSCRIBE", "do not call me"])
        found.append(RevocationFact(channel, words, recorded - _days(rng, 0, 0.5), recorded))
    return tuple(found)


def _recent_contacts(
    rng: random.Random, send_at: datetime, calls: bool, monthly: bool
) -> tuple[PastContact, ...]:
    """Earlier contacts within a day either side (the 24-hour caps), or, when a 30-day cap
    is aimed at or a third of the time, within a month, mostly calls; a quarter of them
    reported failed, which the caps still count."""
    count = rng.choices(range(7), weights=[2, 1, 2, 3, 3, 2, 2])[0] if calls else rng.randint(0, 2)
    spread = 24 * 33 if monthly or rng.random() < 1 / 3 else 27
    channels = [Channel.PHONE, Channel.SMS, Channel.PHONE, Channel.SMS, Channel.EMAIL, None]
    if monthly:
        count, channels = rng.randint(2, 8), [Channel.PHONE] * 12 + channels
    return tuple(
        PastContact(
            rng.choice(channels),
            rng.choice([Purpose.MARKETING] * 5 + [Purpose.SERVICE]),
            send_at + timedelta(hours=rng.uniform(-spread, spread)),
            reserved=rng.random() >= 1 / 4,
        )
        for _ in range(count)
    )


def _monthly_cap(rule: Rule | None) -> bool:
    """Whether the rule caps contacts over more than a day (France's 30 days)."""
    if rule is None or not isinstance(rule.params, MaxContactsParams):
        return False
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return rule.params.period.add_to(start) - start > timedelta(days=1)


def _exception(rng: random.Random, rule: Rule | None, purpose: Purpose) -> LegalException | None:
    """A Reg P exception: one the rule judges only under, else mostly none for sharing."""
    if rule is not None and rule.only_under:
        return rng.choice(sorted(rule.only_under))
    share = 0.5 if purpose is Purpose.SHARE_THIRD_PARTIES else 0.03
    return rng.choice(list(LegalException)) if rng.random() < share else None


def _data_categories(rng: random.Random, purpose: Purpose) -> frozenset[DataCategory]:
    if purpose is not Purpose.SHARE_THIRD_PARTIES and rng.random() < 0.9:
        return frozenset()
    every = list(DataCategory)
    return frozenset(rng.sample(every, rng.randint(0, len(every))))


def _contact(
    rng: random.Random, rule: Rule | None, periods: Sequence[tuple[date, date]]
) -> tuple[tuple[str, ...], Purpose, Channel | None, datetime]:
    """Where, what and when: within the rule's reach, or anything if no rule is aimed at."""
    places = _PLACES
    purposes, weights = zip(*_PURPOSES, strict=True)
    channels: Sequence[Channel | None] = _CHANNELS
    if rule is not None:
        places = tuple(p for p in _PLACES if not expand(p).isdisjoint(rule.jurisdictions))
        purposes, weights = rule.purposes, (1,) * len(rule.purposes)
        channels = rule.channels or channels
        periods = [period for period in periods if rule.in_force_on(period[0])]
    purpose = rng.choices(purposes, weights=weights)[0]
    channel = rng.choices(channels, weights=_CHANNEL_WEIGHTS[: len(channels)])[0]
    if purpose is not Purpose.MARKETING and (rule is None or not rule.channels):
        channel = None if rng.random() < 0.7 else channel  # mostly a data-use check
    place = rng.choice(places)
    send_at = _send_time(rng, periods)
    if rule is not None and isinstance(rule.params, LocalHoursParams) and rng.random() < 0.7:
        zone = ZoneInfo(rng.choice([zone for code in place for zone in _ZONES[code]]))
        days = {WEEKDAYS.index(day) for day in rule.params.on_days}
        for _ in range(30 if days and rng.random() < 0.5 else 0):  # a day of its own hours
            if send_at.astimezone(zone).weekday() in days:
                break
            send_at = _send_time(rng, periods)
        # The mirror's calendars, not the pack's: a holiday the pack drops is still aimed at.
        calendars = [code for code in rule.jurisdictions if code in _HOLIDAYS]
        if calendars and rng.random() < 0.5:
            send_at = _by_a_holiday(rng, send_at, calendars[0], periods)
        send_at = _near_the_hours(rng, send_at, rule.params, zone)
    return place, purpose, channel, send_at


def _by_a_holiday(
    rng: random.Random, send_at: datetime, code: str, periods: Sequence[tuple[date, date]]
) -> datetime:
    """The same time on one of the state's holidays that year or the day either side (the
    edges of a calendar a day off), unless that leaves the eras sampled."""
    calendar, fixed = _HOLIDAYS[code]
    year = send_at.year
    if fixed and rng.random() < 0.5:  # the few the pack adds, as often as the many
        days = [date(year, month, day) for month, day in fixed]
    else:
        calendar.get(date(year, 1, 1))  # the package fills a year when first asked
        days = [day for day in calendar if day.year == year]
    beside = timedelta(days=rng.choice([-1, 0, 0, 1]))
    moved = send_at + (rng.choice(days) - send_at.date()) + beside
    inside = any(first <= moved.date() <= last for first, last in periods)
    return moved if inside else send_at


def _near_the_hours(
    rng: random.Random, send_at: datetime, hours: LocalHoursParams, zone: ZoneInfo
) -> datetime:
    """Within 90 minutes of an opening or closing of that day's hours in ``zone``: the
    edges at which a window an hour or a day off is caught."""
    day = send_at.astimezone(zone).date()
    window = hours.window(day)
    if window is None:
        usual = hours.on_days.get(WEEKDAYS[day.weekday()], (hours.start, hours.end))
        if not usual or rng.random() < 0.2:  # a day without hours: any time is an edge
            return send_at
        # A holiday: the hours the day would have had, where only the holiday denies.
        opens, closes = (datetime.combine(day, edge, tzinfo=zone) for edge in usual)
        return (opens + (closes - opens) * rng.random()).astimezone(UTC)
    edges = [*window, *(edge for gap in hours.breaks for edge in gap)]
    edge = datetime.combine(day, rng.choice(edges), tzinfo=zone)
    return (edge + timedelta(minutes=rng.uniform(-90, 90))).astimezone(UTC)


def sample_facts(
    rng: random.Random, rules: Sequence[Rule], periods: Sequence[tuple[date, date]]
) -> Facts:
    """Random facts; four in five aimed at one rule (its place, contact and era), so that
    every rule applies often, and the rest at anything (no law, no rule in force)."""
    aimed = rng.choice(rules) if rng.random() < 0.8 else None
    jurisdictions, purpose, channel, send_at = _contact(rng, aimed, periods)
    consents = {}
    if rng.random() < 0.8:
        consents[Purpose.MARKETING] = _consent(rng, send_at, _status_choice(rng), jurisdictions)
    for shared in (Purpose.SHARE_THIRD_PARTIES, Purpose.SHARE_AFFILIATES, Purpose.PROFILING):
        if rng.random() < 0.5:
            consents[shared] = _consent(rng, send_at, _status_choice(rng), jurisdictions)
    zones = sorted({zone for code in jurisdictions for zone in _ZONES[code]})
    time_zones = (
        () if rng.random() < 0.1 else tuple(rng.sample(zones, min(len(zones), rng.randint(1, 2))))
    )
    return Facts(
        jurisdictions=frozenset(jurisdictions),
        channel=channel,
        purpose=purpose,
        source=Source.CAMPAIGN if channel is not None else Source.DATA_USE,
        send_at=send_at,
        consents=consents,
        channel_status=rng.choices(list(PreferenceStatus), weights=[2, 1, 1])[0],
        notices=_notices(rng, send_at),
        relationship=Relationship(
            last_purchase_at=_dealing(rng, send_at, 0.6, 1200, (12, 18, 24)),
            last_inquiry_at=_dealing(rng, send_at, 0.4, 300, (3, 6)),
        ),
        time_zones=time_zones,
        automated=rng.random() < 0.5,
        lists=_lists(rng, send_at),
        revocations=_revocations(rng, send_at, consents.get(Purpose.MARKETING)),
        recent_contacts=_recent_contacts(
            rng, send_at, channel in _PHONE, monthly=_monthly_cap(aimed)
        ),
        exception=_exception(rng, aimed, purpose),
        data_categories=_data_categories(rng, purpose),
    )


def casbin_enforcers() -> dict[str, casbin.Enforcer]:
    """One enforcer per rule: casbin answers allow or deny, and the gate needs every reason."""
    enforcers = {}
    with tempfile.TemporaryDirectory(prefix="bench-policy-") as directory:
        folder = Path(directory)  # casbin reads its files once, at construction
        (folder / "model.conf").write_text(MODEL)
        for line in POLICY.strip().splitlines():
            rule = line.split(",")[1].strip()
            policy_file = folder / f"{rule}.csv"
            policy_file.write_text(line + "\n")
            enforcers[rule] = casbin.Enforcer(str(folder / "model.conf"), str(policy_file))
    return enforcers


def _base_rule(rule_id: str, rule_ids: set[str]) -> str:
    """The loaded rule a denying id belongs to (``x.copy_stale`` belongs to ``x``)."""
    return rule_id if rule_id in rule_ids else rule_id.rsplit(".", 1)[0]


def coverage(engine: PolicyEngine, samples: list[Facts]) -> dict[str, tuple[int, int]]:
    """Per casbin rule id: samples it denied, and samples where its rule applied and it did
    not deny. Fails loudly if some rule never did one or the other."""
    rule_ids = {rule.id for rule in engine.rules}
    missing = rule_ids.difference(_base_rule(rule, rule_ids) for rule in CONDITIONS)
    if missing:
        raise SystemExit(f"the casbin model lacks rules the engine loads: {sorted(missing)}")
    denied: Counter[str] = Counter()
    allowed: Counter[str] = Counter()
    for facts in samples:
        applied = {e.rule.id for e in engine.explain(facts) if e.applies}
        reasons = {reason.rule for reason in engine.evaluate(facts)}
        for rule in CONDITIONS:
            if rule in reasons:
                denied[rule] += 1
            elif _base_rule(rule, rule_ids) in applied:
                allowed[rule] += 1
    counts = {rule: (denied[rule], allowed[rule]) for rule in CONDITIONS}
    never = [rule for rule, (deny, allow) in counts.items() if not deny or not allow]
    if never:
        raise SystemExit(
            "some rules were not exercised both ways (denied, allowed): "
            + ", ".join(f"{rule} {counts[rule]}" for rule in never)
        )
    return counts


def timed(decide: Callable[[Facts], object], samples: list[Facts], rounds: int) -> list[float]:
    """Every decision's own time in microseconds, over ``rounds`` passes of the samples.

    Each decision is timed alone (perf_counter_ns costs well under a microsecond here), so
    the p50 is that of single decisions, as the target is stated, not of pass averages.
    """
    clock = time.perf_counter_ns
    times = []
    for _ in range(rounds):
        for facts in samples:
            start = clock()
            decide(facts)
            times.append((clock() - start) / 1000)
    return times


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.policy", description=__doc__)
    parser.add_argument("--samples", type=int, default=2_000, help="facts judged per round")
    parser.add_argument("--rounds", type=int, default=15, help="timed passes, compiled tables")
    parser.add_argument(
        "--casbin-rounds", type=int, default=3, help="timed passes, casbin (~8 s each)"
    )
    args = parser.parse_args(argv)
    engine = PolicyEngine.load(POLICIES)
    rng = random.Random(2026)
    periods = eras(engine.rules)
    samples = [sample_facts(rng, engine.rules, periods) for _ in range(args.samples)]
    enforcers = casbin_enforcers()

    def compiled(facts: Facts) -> list[str]:
        return sorted(reason.rule for reason in engine.evaluate(facts))

    def with_casbin(facts: Facts) -> list[str]:
        subject = subject_of(facts)
        return sorted(rule for rule, enforcer in enforcers.items() if enforcer.enforce(subject))

    disagreements = [facts for facts in samples if compiled(facts) != with_casbin(facts)]
    if disagreements:
        first = disagreements[0]
        raise SystemExit(
            f"the two disagree on {len(disagreements)} of {len(samples)} samples; first: "
            f"engine {compiled(first)}, casbin {with_casbin(first)}, facts {first}"
        )
    counts = coverage(engine, samples)
    denied = sum(1 for facts in samples if compiled(facts))
    fast = timed(compiled, samples, args.rounds)
    slow = timed(with_casbin, samples, args.casbin_rounds)
    speedup = p50(slow) / p50(fast)
    print(f"{len(samples)} facts ({denied} denied), {args.rounds} rounds compiled, "
          f"{args.casbin_rounds} casbin; {len(CONDITIONS)} rule ids ({len(engine.rules)} "
          "rules): both agree on every sample")  # fmt: skip
    print(
        textwrap.fill(
            "coverage, denied/allowed where it applied: "
            + ", ".join(f"{rule} {deny}/{allow}" for rule, (deny, allow) in counts.items()),
            width=100,
            break_on_hyphens=False,
        )
    )
    print()
    print("| engine | p50 us / decision | mean us | p99 us | x compiled (p50) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, times, ratio in (("compiled tables", fast, 1.0), ("pycasbin ABAC", slow, speedup)):
        mean = statistics.fmean(times)
        print(f"| {name} | {p50(times):.2f} | {mean:.2f} | {p99(times):.2f} | {ratio:.1f} |")
    print()
    print(f"target: >= {SPEEDUP_TARGET:.0f} x faster: {speedup:.1f} "
          f"{'ok' if speedup >= SPEEDUP_TARGET else 'FAIL'}")  # fmt: skip
    print(f"target: p50 <= {P50_TARGET_US:.0f} us: {p50(fast):.2f} "
          f"{'ok' if p50(fast) <= P50_TARGET_US else 'FAIL'}")  # fmt: skip


if __name__ == "__main__":
    main()
