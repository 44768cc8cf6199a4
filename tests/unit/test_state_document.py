"""The state's JSON on the customer row: new fields round-trip, older documents still read."""

import json
from datetime import UTC, date, datetime, time

from consent.customers import age_on, local_date
from consent.preferences import ChannelPreference, Limit, QuietHours
from consent.state import CustomerState, decode_state, encode_state
from policy.facts import ConsentFact, RevocationFact
from policy.periods import Period
from policy.vocabulary import Channel, ConsentStatus, PreferenceChannel, PreferenceStatus, Purpose

AT = datetime(2026, 11, 26, 15, tzinfo=UTC)

# A customer's state as stored before revocations, written consent and age were projected.
BEFORE_REVOCATIONS = json.dumps({
    "jurisdictions": ["US-TX"], "time_zone": None, "phone_time_zones": ["America/Chicago"],
    "relationship": {"customer_since": None, "last_purchase_at": None, "last_inquiry_at": None},
    "preferences": {},
    "consents": {"marketing": {"status": "granted", "captured_at": "2026-01-01T00:00:00+00:00",
                               "expires_at": None}},
    "notices": {}, "contacts": {},
})  # fmt: skip


def test_a_document_written_before_revocations_has_none() -> None:
    state = decode_state(1, "C-old", BEFORE_REVOCATIONS, erased=False)
    assert state.revocations == ()


def test_a_consent_stored_before_its_form_was_kept_is_not_written_and_of_unknown_age() -> None:
    fact = decode_state(1, "C-old", BEFORE_REVOCATIONS, erased=False).consents[Purpose.MARKETING]
    assert fact.written is False
    assert fact.age_at_capture is None
    assert fact.legal_basis is None
    assert fact.is_consent  # a record naming no basis is a consent, as it was read before


def test_a_consents_legal_basis_round_trips() -> None:
    basis = ConsentFact(ConsentStatus.GRANTED, AT, legal_basis="legitimate_interests")
    state = CustomerState(
        pk=7,
        external_id="C-li",
        jurisdictions=frozenset({"FR"}),
        consents={Purpose.PROFILING: basis},
    )
    decoded = decode_state(7, "C-li", encode_state(state), erased=False)
    assert decoded.consents[Purpose.PROFILING].legal_basis == "legitimate_interests"
    assert not decoded.consents[Purpose.PROFILING].is_consent


def test_revocations_and_consent_form_round_trip() -> None:
    state = CustomerState(
        pk=7,
        external_id="C-new",
        jurisdictions=frozenset({"US-TX"}),
        consents={Purpose.MARKETING: ConsentFact(ConsentStatus.GRANTED, AT, written=True,
                                                 age_at_capture=17)},
        revocations=(RevocationFact(Channel.SMS, "STOP", AT, AT),),
    )  # fmt: skip
    assert decode_state(7, "C-new", encode_state(state), erased=False) == state


def _with_phone_preference(source: str) -> CustomerState:
    limits = (Limit(3, Period.parse("P7D")), Limit(1, Period.parse("P1D")))
    quiet = (QuietHours(frozenset({5}), time(9), time(14)),)  # no calls Saturday 09:00-14:00
    preference = ChannelPreference(
        PreferenceChannel.PHONE, PreferenceStatus.OPTED_IN, limits=limits, quiet_hours=quiet,
        source=source,
    )  # fmt: skip
    return CustomerState(
        pk=8,
        external_id="C-pref",
        jurisdictions=frozenset({"ES"}),
        preferences={PreferenceChannel.PHONE: preference},
    )


def test_limits_and_quiet_hours_round_trip() -> None:
    state = _with_phone_preference("portal")
    assert decode_state(8, "C-pref", encode_state(state), erased=False) == state


def test_a_lone_surrogate_a_caller_sent_is_read_back_as_written() -> None:
    # The stored JSON escapes it; orjson refuses such an escape, the stdlib reads it.
    state = _with_phone_preference("form \ud800 v2")
    assert "\\ud800" in encode_state(state)
    assert decode_state(8, "C-pref", encode_state(state), erased=False) == state


def test_age_turns_on_the_birthday_in_the_customers_own_zone() -> None:
    born = date(2012, 11, 26)
    madrid = ("Europe/Madrid",)
    # 23:59:59 on 25 November in Madrid, then midnight: the fourteenth birthday.
    assert age_on(born, datetime(2026, 11, 25, 22, 59, 59, tzinfo=UTC), madrid) == 13
    assert age_on(born, datetime(2026, 11, 25, 23, 0, 0, tzinfo=UTC), madrid) == 14


def test_age_where_the_zone_is_uncertain_is_the_youngest_reading() -> None:
    born = date(2012, 11, 26)
    # Already 26 November in New York (00:30), still 25 November in Los Angeles (21:30).
    at = datetime(2026, 11, 26, 5, 30, tzinfo=UTC)
    assert age_on(born, at, ("America/New_York",)) == 14
    assert age_on(born, at, ("America/New_York", "America/Los_Angeles")) == 13


def test_born_on_29_february_is_a_year_older_on_1_march() -> None:
    born = date(2008, 2, 29)
    assert age_on(born, datetime(2026, 2, 28, 12, tzinfo=UTC), ()) == 17
    assert age_on(born, datetime(2026, 3, 1, 12, tzinfo=UTC), ()) == 18


def test_an_instant_at_the_end_of_the_calendar_is_read_on_the_utc_day() -> None:
    # New York's offset would take 0001-01-01T00:00Z out of the calendar: no 500, UTC's day.
    assert local_date(datetime(1, 1, 1, tzinfo=UTC), "America/New_York") == date(1, 1, 1)
    last = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert local_date(last, "Asia/Tokyo") == date(9999, 12, 31)
