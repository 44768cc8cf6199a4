"""The scenario table: one customer, what they told us, one check, and the answer the law gives.

Every pack is covered (GDPR/ePrivacy, Spain, GLBA, FCRA, TCPA, US states, CAN-SPAM, CASL)
and the customer's own choices. Times are relative to ``BASE``, a weekday a few days ahead
at 17:00 UTC: late morning in Dallas, midday in New York, evening in Madrid, so that calling
hours allow a contact unless a scenario moves the clock on purpose (a weekend day has hours
of its own: Texas opens at noon on Sundays, Canada at 10 on weekends). Consents are recorded "now",
before every send time.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

NOW = datetime.now(UTC)
_AHEAD = (NOW + timedelta(days=3)).date()
_WEEKDAY = _AHEAD + timedelta(days=7 - _AHEAD.weekday() if _AHEAD.weekday() >= 5 else 0)
BASE = datetime.combine(_WEEKDAY, time(17), tzinfo=UTC)
TO_SUNDAY = 6 - BASE.weekday()  # days from BASE to the Sunday of its week

Call = tuple[str, str, dict[str, Any]]  # method, path under /v1/customers/{id}, body


@dataclass(frozen=True)
class Scenario:
    name: str
    customer: dict[str, Any] | None  # the PUT body; None: the customer is never created
    check: dict[str, Any]  # the POST /v1/checks body, without customer_id
    decision: str
    rules: tuple[str, ...] = ()  # rule ids the reasons must include
    setup: tuple[Call, ...] = ()
    earlier_checks: int = 0  # the same check made (and allowed) this many times first
    on_lists: tuple[str, ...] = ()  # lists the customer's phone (or email) is loaded on
    earliest_allowed: bool = False  # the deny says when the contact becomes allowed
    notes: str = field(default="", compare=False)


def ago(days: int) -> str:
    return _iso(NOW - timedelta(days=days))


def local(zone: str, hour: int, minute: int = 0, days: int = 0) -> str:
    """BASE's calendar day (plus ``days``) at a wall-clock time in ``zone``, as UTC."""
    day = BASE.date() + timedelta(days=days)
    return _iso(datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone)))


def next_yearly(month: int, day: int, hour: int, zone: str) -> str:
    """The next ``month``-``day`` after BASE (a fixed-date holiday) at ``hour`` in ``zone``."""
    year = BASE.year if (month, day) > (BASE.month, BASE.day) else BASE.year + 1
    return _iso(datetime.combine(date(year, month, day), time(hour), tzinfo=ZoneInfo(zone)))


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def consent(purpose: str = "marketing", status: str = "granted", **extra: Any) -> Call:
    return ("POST", "/consents", {"purpose": purpose, "status": status, **extra})


WRITTEN = consent(form="written")


def prefer(channel: str, status: str = "opted_in", **extra: Any) -> Call:
    return ("PUT", f"/preferences/{channel}", {"status": status, **extra})


def notice(kind: str, days_ago: int) -> Call:
    return ("POST", "/notices", {"kind": kind, "delivered_at": ago(days_ago), "method": "mail"})


def revoke(channel: str, words: str) -> Call:
    return ("POST", "/revocations", {"channel": channel, "words": words})


def person(
    jurisdiction: str,
    phone: str | None = None,
    email: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    points: dict[str, list[str]] = {}
    if phone:
        points["phone"] = [phone]
    if email:
        points["email"] = [email]
    return {"jurisdictions": [jurisdiction], "contact_points": points, **extra}


def bought(days_ago: int) -> dict[str, Any]:
    return {"relationship": {"last_purchase_at": ago(days_ago)}}


def asked(days_ago: int) -> dict[str, Any]:
    return {"relationship": {"last_inquiry_at": ago(days_ago)}}


def born_years_ago(years: int) -> dict[str, Any]:
    """Old enough to have turned ``years`` a month ago, and not ``years + 1``."""
    born = NOW.date() - timedelta(days=round(365.25 * years) + 30)
    return {"birth_date": born.isoformat()}


_SOURCES = {None: "data_use", "phone": "telemarketing"}


def at(
    send_at: datetime | str, channel: str | None = "phone", purpose: str = "marketing", **extra: Any
) -> dict[str, Any]:
    source = _SOURCES.get(channel, "campaign")
    body: dict[str, Any] = {
        "purpose": purpose,
        "source": source,
        "send_at": send_at if isinstance(send_at, str) else _iso(send_at),
    }
    if channel is not None:
        body["channel"] = channel
    return body | extra


def texan(n: int, **extra: Any) -> dict[str, Any]:
    return person("US-TX", phone=f"+1 214 555 01{n:02d}", email=f"tx{n}@example.com", **extra)


def canadian(n: int, **extra: Any) -> dict[str, Any]:
    return person("CA-ON", phone=f"+1 416 555 02{n:02d}", **extra)


TORONTO = "America/Toronto"


def spaniard(n: int, **extra: Any) -> dict[str, Any]:
    return person("ES", phone=f"+34 600 000 1{n:02d}", email=f"es{n}@example.es", **extra)


CALL = at(BASE)
MANUAL_CALL = at(BASE, automated=False)
TEXT = at(BASE, channel="sms")
EMAIL = at(BASE, channel="email")
SHARING = at(BASE, channel=None, purpose="share_third_parties")
AFFILIATES = at(BASE, channel=None, purpose="share_affiliates")

SCENARIOS: tuple[Scenario, ...] = (
    # --- TCPA ---------------------------------------------------------------------------
    Scenario("tcpa: autodialed call with written consent at midday", texan(1), CALL, "allow",
             setup=(WRITTEN,)),
    Scenario("tcpa: call at 10 pm in Dallas", texan(2), at(local("America/Chicago", 22)), "deny",
             ("tcpa.calling_hours",), setup=(WRITTEN,), earliest_allowed=True),
    Scenario("tcpa: autodialed call with web-form consent only", texan(3), CALL, "deny",
             ("tcpa.written_consent",), setup=(consent(form="web_form"),)),
    Scenario("tcpa: manual call needs no written consent", texan(4), MANUAL_CALL, "allow"),
    Scenario("tcpa: number on the national DNC", texan(5), MANUAL_CALL, "deny",
             ("tcpa.national_dnc",), on_lists=("national_dnc",)),
    Scenario("tcpa: national DNC, but written permission", texan(6), CALL, "allow",
             setup=(WRITTEN,), on_lists=("national_dnc",)),
    Scenario("tcpa: national DNC, purchase 10 months ago (EBR)", texan(7, **bought(300)),
             MANUAL_CALL, "allow", on_lists=("national_dnc",)),
    Scenario("tcpa: national DNC, purchase 20 months ago", texan(8, **bought(600)),
             MANUAL_CALL, "deny", ("tcpa.national_dnc",), on_lists=("national_dnc",)),
    Scenario("tcpa: national DNC, inquiry a month ago (EBR)", texan(9, **asked(30)),
             MANUAL_CALL, "allow", on_lists=("national_dnc",)),
    Scenario("tcpa: national DNC copy 40 days old at send time", texan(10),
             at(BASE + timedelta(days=40), automated=False), "deny",
             ("tcpa.national_dnc.copy_stale",)),
    Scenario("tcpa: number on our internal DNC", texan(11), CALL, "deny",
             ("tcpa.internal_dnc",), setup=(WRITTEN,), on_lists=("internal_dnc",)),
    Scenario("an erased customer", texan(40), MANUAL_CALL, "deny", ("gate.customer_erased",),
             setup=(WRITTEN, ("DELETE", "", None))),
    Scenario("tcpa: STOP reply stops marketing texts", texan(12), TEXT, "deny",
             ("tcpa.revocation", "customer.revoked"), setup=(WRITTEN, revoke("sms", "STOP"))),
    Scenario("tcpa: written consent given again after STOP", texan(13), TEXT, "allow",
             setup=(revoke("sms", "stop"), WRITTEN)),
    Scenario("tcpa: service text after STOP", texan(14), at(BASE, channel="sms",
             purpose="service", source="transactional"), "allow",
             setup=(revoke("sms", "STOP"),)),
    Scenario("customer: quiet hours in the customer's day", texan(15), CALL, "deny",
             ("customer.quiet_hours",), setup=(WRITTEN, prefer("phone", quiet_hours=[
                 {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                  "start": "09:00", "end": "18:00"}])), earliest_allowed=True),
    Scenario("customer: second call in a day over a limit of one", texan(16), CALL, "deny",
             ("customer.frequency_limit",), earlier_checks=1,
             setup=(WRITTEN, prefer("phone", limits=[{"count": 1, "period": "P1D"}])),
             earliest_allowed=True),
    Scenario("customer: inbound only", texan(17), CALL, "deny", ("customer.inbound_only",),
             setup=(WRITTEN, prefer("phone", direction="inbound_only"))),
    Scenario("gate: unknown customer", None, CALL, "deny", ("gate.customer_unknown",)),
    # --- US states ----------------------------------------------------------------------
    Scenario("florida: call at 8:30 pm", person("US-FL", phone="+1 305 555 0101"),
             at(local("America/New_York", 20, 30)), "deny", ("us_fl.calling_hours",),
             setup=(WRITTEN,), earliest_allowed=True),
    Scenario("florida: fourth call in 24 hours", person("US-FL", phone="+1 305 555 0102"),
             CALL, "deny", ("us_fl.calls_per_24h",), setup=(WRITTEN,), earlier_checks=3,
             earliest_allowed=True),
    Scenario("texas: fourth call in 24 hours is no state matter", texan(18), CALL, "allow",
             setup=(WRITTEN,), earlier_checks=3),
    Scenario("maryland: fourth call in 24 hours", person("US-MD", phone="+1 410 555 0101"),
             CALL, "deny", ("us_md.calls_per_24h",), setup=(WRITTEN,), earlier_checks=3),
    Scenario("oklahoma: call at 8:30 pm", person("US-OK", phone="+1 405 555 0101"),
             at(local("America/Chicago", 20, 30)), "deny", ("us_ok.calling_hours",),
             setup=(WRITTEN,)),
    Scenario("texas: call at 11 am on a Sunday", texan(41),
             at(local("America/Chicago", 11, days=TO_SUNDAY)), "deny", ("us_tx.calling_hours",),
             setup=(WRITTEN,), earliest_allowed=True),
    Scenario("texas: call at noon on a Sunday", texan(42),
             at(local("America/Chicago", 12, days=TO_SUNDAY)), "allow", setup=(WRITTEN,)),
    Scenario("mississippi: call on a Sunday afternoon", person("US-MS", phone="+1 601 555 0101"),
             at(local("America/Chicago", 15, days=TO_SUNDAY)), "deny", ("us_ms.calling_hours",),
             setup=(WRITTEN,), earliest_allowed=True),
    Scenario("utah: call at noon on Pioneer Day", person("US-UT", phone="+1 801 555 0101"),
             at(next_yearly(7, 24, 12, "America/Denver")), "deny", ("us_ut.calling_hours",),
             setup=(WRITTEN,), earliest_allowed=True),
    Scenario("rhode island: call at 9:30 on a Saturday", person("US-RI", phone="+1 401 555 0101"),
             at(local("America/New_York", 9, 30, days=TO_SUNDAY - 1)), "deny",
             ("us_ri.calling_hours",), setup=(WRITTEN,), earliest_allowed=True),
    Scenario("louisiana: call at noon on a Sunday", person("US-LA", phone="+1 504 555 0101"),
             at(local("America/Chicago", 12, days=TO_SUNDAY)), "deny", ("us_la.calling_hours",),
             setup=(WRITTEN,), earliest_allowed=True),
    Scenario("washington: call at 8:30 pm", person("US-WA", phone="+1 206 555 0101"),
             at(local("America/Los_Angeles", 20, 30)), "deny", ("us_wa.calling_hours",),
             setup=(WRITTEN,), earliest_allowed=True),
    Scenario("oregon: text at 8:30 pm", person("US-OR", phone="+1 503 555 0101"),
             at(local("America/Los_Angeles", 20, 30), channel="sms"), "deny",
             ("us_or.calling_hours",), setup=(WRITTEN,), earliest_allowed=True),
    # --- UK (PECR) ---------------------------------------------------------------------
    Scenario("uk: email without consent", person("GB", email="uk1@example.co.uk"), EMAIL,
             "deny", ("pecr.reg22.e_marketing_consent",)),
    Scenario("uk: email to a customer who bought (soft opt-in)",
             person("GB", email="uk2@example.co.uk", **bought(365)), EMAIL, "allow"),
    # --- CAN-SPAM -----------------------------------------------------------------------
    Scenario("can-spam: email marketing needs no prior consent", texan(19), EMAIL, "allow"),
    Scenario("can-spam: email after unsubscribe", texan(20), EMAIL, "deny",
             ("canspam.opt_out", "customer.channel_opted_out"),
             setup=(prefer("email", "opted_out"),)),
    # --- GLBA ---------------------------------------------------------------------------
    Scenario("glba: sharing 40 days after the initial notice", texan(21), SHARING, "allow",
             setup=(notice("glba_initial", 40),)),
    Scenario("glba: sharing 10 days after the initial notice", texan(22), SHARING, "deny",
             ("glba.initial_notice.opt_out_window",), setup=(notice("glba_initial", 10),),
             earliest_allowed=True),
    Scenario("glba: sharing after an opt-out", texan(23), SHARING, "deny",
             ("glba.opt_out.third_party_sharing",),
             setup=(notice("glba_initial", 40), consent("share_third_parties", "withdrawn"))),
    Scenario("glba: last notice over 12 months ago", texan(24), SHARING, "deny",
             ("glba.annual_notice",), setup=(notice("glba_initial", 400),)),
    Scenario("glba: sharing 10 days after the notice with a service provider (1016.13)",
             texan(28), SHARING | {"exception": "service_provider"}, "allow",
             setup=(notice("glba_initial", 10),)),
    Scenario("glba: service provider before any notice (1016.13(a)(1)(i))", texan(29),
             SHARING | {"exception": "service_provider"}, "deny",
             ("glba.service_providers.initial_notice",)),
    Scenario("glba: answering a subpoena needs no notice (1016.15(a)(7))", texan(30),
             SHARING | {"exception": "legal_process"}, "allow"),
    Scenario("glba: account numbers for marketing", texan(31),
             SHARING | {"data_categories": ["account_number"]}, "deny",
             ("glba.account_numbers",), setup=(notice("glba_initial", 40),)),
    # --- FCRA ---------------------------------------------------------------------------
    Scenario("fcra: affiliate marketing 40 days after notice", texan(25), AFFILIATES, "allow",
             setup=(notice("fcra_affiliate", 40),)),
    Scenario("fcra: affiliate marketing after an opt-out", texan(26), AFFILIATES, "deny",
             ("fcra.affiliate_marketing.opt_out",),
             setup=(notice("fcra_affiliate", 40), consent("share_affiliates", "withdrawn"))),
    Scenario("fcra: a recent purchase does not beat the customer's own opt-out",
             texan(27, **bought(100)), AFFILIATES, "deny", ("customer.consent_withdrawn",),
             setup=(consent("share_affiliates", "withdrawn"),),
             notes="Reg V's exception lets the law allow it; the customer's choice still binds"),
    # --- Spain --------------------------------------------------------------------------
    Scenario("spain: email with consent", spaniard(1), EMAIL, "allow",
             setup=(consent(), prefer("email"))),
    Scenario("spain: email without consent", spaniard(2), EMAIL, "deny",
             ("lssi.art21.e_marketing_consent", "eprivacy.art13_1.e_marketing_consent")),
    Scenario("spain: email to a customer who bought (soft opt-in)", spaniard(3, **bought(365)),
             EMAIL, "allow"),
    Scenario("spain: marketing call without consent", spaniard(4), CALL, "deny",
             ("lgtel.art66_1_b.marketing_calls",)),
    Scenario("spain: marketing call to a customer who bought this year",
             spaniard(5, **bought(100)), MANUAL_CALL, "allow"),
    Scenario("spain: letter to a customer without consent (Lista Robinson by post)",
             spaniard(11, **bought(100)), at(BASE, channel="post"), "deny",
             ("lopdgdd.art23.lista_robinson_post",)),
    Scenario("spain: automated marketing call to a customer who bought this year",
             spaniard(10, **bought(100)), CALL, "deny", ("lgtel.art66_1_a.automated_calls",)),
    Scenario("spain: number on the Lista Robinson", spaniard(6, **bought(100)), CALL, "deny",
             ("lopdgdd.art23.lista_robinson",), on_lists=("lista_robinson",)),
    Scenario("spain: Lista Robinson, but consent to us", spaniard(7), CALL, "allow",
             setup=(consent(), prefer("phone")), on_lists=("lista_robinson",)),
    Scenario("spain: consent given at 13", spaniard(8, **born_years_ago(13)), EMAIL, "deny",
             ("lssi.art21.e_marketing_consent",), setup=(consent(), prefer("email"))),
    Scenario("spain: an objection stops all marketing", spaniard(9, **bought(30)), CALL, "deny",
             ("gdpr.art21.marketing_objection", "customer.purpose_objected"),
             setup=(consent(status="objected"),)),
    # --- EU -----------------------------------------------------------------------------
    Scenario("france: email with consent", person("FR", email="fr1@example.fr"), EMAIL, "allow",
             setup=(consent(), prefer("email"))),
    Scenario("france: text without consent", person("FR", phone="+33 6 12 34 56 01"), TEXT,
             "deny", ("eprivacy.art13_1.e_marketing_consent",)),
    Scenario("france: call on consent in the lunch break", person("FR", phone="+33 1 45 67 89 01"),
             at(local("Europe/Paris", 13, 30), automated=False), "deny",
             ("fr.d223_9.calling_hours",), setup=(consent(), prefer("phone")),
             earliest_allowed=True),
    Scenario("germany: service email after an opt-out", person("DE", email="de1@example.de"),
             at(BASE, channel="email", purpose="service", source="transactional"), "allow",
             setup=(prefer("email", "opted_out"),)),
    Scenario("germany: marketing call without consent", person("DE", phone="+49 30 1234567"),
             MANUAL_CALL, "deny", ("eprivacy.art13_3.marketing_calls",)),
    Scenario("germany: email on consent given at 15",
             person("DE", email="de2@example.de", **born_years_ago(15)), EMAIL, "deny",
             ("eprivacy.art13_1.e_marketing_consent",), setup=(consent(), prefer("email"))),
    Scenario("belgium: email on consent given at 13",
             person("BE", email="be1@example.be", **born_years_ago(13)), EMAIL, "allow",
             setup=(consent(), prefer("email"))),
    Scenario("austria: marketing call with consent", person("AT", phone="+43 1 5123456"),
             MANUAL_CALL, "allow", setup=(consent(), prefer("phone"))),
    Scenario("france: sharing with nothing on record", person("FR", email="fr2@example.fr"),
             SHARING, "deny", ("gdpr.art6.lawful_basis.share_third_parties",)),
    Scenario("france: sharing on legitimate interests", person("FR", email="fr3@example.fr"),
             SHARING, "allow",
             setup=(consent("share_third_parties", legal_basis="legitimate_interests"),)),
    # --- CASL ---------------------------------------------------------------------------
    Scenario("canada: email with express consent", person("CA-ON", email="ca1@example.ca"),
             EMAIL, "allow", setup=(consent(), prefer("email"))),
    Scenario("canada: email a year after a purchase (implied consent)",
             person("CA-ON", email="ca2@example.ca", **bought(365)), EMAIL, "allow"),
    Scenario("canada: email three years after a purchase",
             person("CA-ON", email="ca3@example.ca", **bought(3 * 365)), EMAIL, "deny",
             ("casl.s6.consent",)),
    Scenario("canada: text after an inquiry 8 months ago",
             person("CA-ON", phone="+1 416 555 0101", **asked(240)), TEXT, "deny",
             ("casl.s6.consent",)),
    Scenario("canada: unsubscribed", person("CA-ON", email="ca4@example.ca"), EMAIL, "deny",
             ("casl.s11.unsubscribe",), setup=(consent(), prefer("email", "opted_out"))),
    Scenario("canada: marketing call at 11 pm in Toronto", canadian(1),
             at(local(TORONTO, 23), automated=False), "deny", ("crtc.calling_hours",),
             earliest_allowed=True),
    Scenario("canada: call at noon to a number on the National DNCL", canadian(2),
             at(local(TORONTO, 12), automated=False), "deny", ("crtc.national_dncl",),
             on_lists=("ca_national_dncl",)),
    Scenario("canada: on the National DNCL, but bought from us a year ago",
             canadian(3, **bought(365)), at(local(TORONTO, 12), automated=False), "allow",
             on_lists=("ca_national_dncl",)),
    Scenario("canada: automated call to a customer who bought a year ago",
             canadian(6, **bought(365)), at(local(TORONTO, 12)), "deny",
             ("crtc.adad.express_consent",)),
    Scenario("canada: sharing with affiliates with nothing on record", canadian(4), AFFILIATES,
             "deny", ("pipeda.principle3.consent.share_affiliates",)),
    Scenario("canada: sharing with affiliates with consent", canadian(5), AFFILIATES, "allow",
             setup=(consent("share_affiliates"),)),
)  # fmt: skip


def listed(list_name: str) -> list[str]:
    """The identifiers of every scenario customer on a list: phones, else emails."""
    found = []
    for scenario in SCENARIOS:
        if list_name in scenario.on_lists and scenario.customer is not None:
            points = scenario.customer["contact_points"]
            found.extend(points.get("phone") or points.get("email") or [])
    return found
