"""Check-and-record on both stores: decisions, reservations, idempotency, outcomes."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import Engine, func, select

from audit.schema import audit_entries
from consent.customers import erase_customer
from consent.errors import IdempotencyConflictError, OutcomeConflictError
from consent.gate import CheckCommand, Gate
from consent.outcomes import record_outcome
from consent.preferences import Limit, QuietHours
from consent.store.database import transaction
from policy.periods import Period
from policy.vocabulary import Channel, Direction, PreferenceStatus, Purpose, Source
from tests.conftest import ACTOR, CustomerFactory

NOW = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)  # a Thursday, 12:00 in Madrid
THURSDAY_NOON = QuietHours(days=frozenset({3}), start=time(12), end=time(13))  # around NOW


def command(customer_id: str, **fields: object) -> CheckCommand:
    values: dict[str, object] = {
        "customer_id": customer_id,
        "channel": Channel.EMAIL,
        "purpose": Purpose.MARKETING,
        "source": Source.CAMPAIGN,
        "idempotency_key": uuid.uuid4().hex,
    }
    values.update(fields)
    return CheckCommand(**values)  # type: ignore[arg-type]


def rules(gate: Gate, cmd: CheckCommand, now: datetime = NOW) -> list[str]:
    return [r.rule for r in gate.check(cmd, ACTOR, now).answer.reasons]


def audit_count(engine: Engine, customer_id: str) -> int:
    with transaction(engine) as conn:
        subject = f"customer:{customer_id}"
        return int(
            conn.execute(
                select(func.count()).where(audit_entries.c.subject == subject)
            ).scalar_one()
        )


@pytest.fixture
def eu_customer(customers: CustomerFactory) -> str:
    customer_id = customers.create(("ES",), post="Calle Mayor 1, 28013 Madrid")
    customers.opted_in_marketing(customer_id)
    return customer_id


def test_opted_in_eu_customer_is_allowed_and_the_decision_is_audited(
    gate: Gate, eu_customer: str, engine: Engine
) -> None:
    before = audit_count(engine, eu_customer)
    answer = gate.check(command(eu_customer), ACTOR, NOW).answer
    assert answer.decision == "allow"
    assert answer.reasons == ()
    assert answer.policy_version.startswith("sha256:")
    assert audit_count(engine, eu_customer) == before + 1
    assert answer.audit_entry_id > 0


def test_check_and_audit_entry_ids_are_time_ordered_uuids(
    gate: Gate, eu_customer: str, engine: Engine
) -> None:
    # Version 7, so that the stores' unique indexes on them grow at their end.
    answers = [gate.check(command(eu_customer), ACTOR, NOW).answer for _ in range(3)]
    check_ids = [answer.check_id for answer in answers]
    with transaction(engine) as conn:
        entry_ids = list(
            conn.execute(
                select(audit_entries.c.entry_id)
                .where(audit_entries.c.seq.in_([a.audit_entry_id for a in answers]))
                .order_by(audit_entries.c.seq)
            ).scalars()
        )
    for ids in (check_ids, entry_ids):
        assert [uuid.UUID(i).version for i in ids] == [7, 7, 7]
        assert ids == sorted(ids)
        assert len(set(ids)) == 3


def test_unknown_customer_is_denied(gate: Gate) -> None:
    assert rules(gate, command("nobody-" + uuid.uuid4().hex)) == ["gate.customer_unknown"]


def test_erased_customer_is_denied(gate: Gate, customers: CustomerFactory, engine: Engine) -> None:
    # Contact points of its own: an erased customer's stay on ``erased_customers``.
    erased = customers.create(("ES",), email=f"{uuid.uuid4().hex[:10]}@example.com", phone=None)
    with transaction(engine) as conn:
        erase_customer(conn, erased, ACTOR, NOW)
    assert rules(gate, command(erased)) == ["gate.customer_erased"]


def test_eu_email_marketing_without_consent_is_denied_under_eprivacy(
    gate: Gate, customers: CustomerFactory
) -> None:
    customer_id = customers.create(("ES",))
    assert "eprivacy.art13_1.e_marketing_consent" in rules(gate, command(customer_id))


def test_opted_out_channel_is_denied_but_service_messages_pass(
    gate: Gate, customers: CustomerFactory, eu_customer: str
) -> None:
    customers.prefer(eu_customer, "email", status=PreferenceStatus.OPTED_OUT)
    assert "customer.channel_opted_out" in rules(gate, command(eu_customer))
    service = command(eu_customer, purpose=Purpose.SERVICE, source=Source.TRANSACTIONAL)
    assert rules(gate, service) == []


def test_inbound_only_channel_is_denied(
    gate: Gate, customers: CustomerFactory, eu_customer: str
) -> None:
    customers.prefer(
        eu_customer, "email", status=PreferenceStatus.OPTED_IN, direction=Direction.INBOUND_ONLY
    )
    assert rules(gate, command(eu_customer)) == ["customer.inbound_only"]


def test_opted_out_on_any_holds_on_every_channel_but_not_for_service(
    gate: Gate, customers: CustomerFactory, eu_customer: str
) -> None:
    """Recorded and ignored, "opt me out of everything" let the next email through."""
    customers.prefer(eu_customer, "post", status=PreferenceStatus.OPTED_IN)
    customers.prefer(eu_customer, "any", status=PreferenceStatus.OPTED_OUT)
    for channel in (Channel.EMAIL, Channel.POST):
        answer = gate.check(command(eu_customer, channel=channel), ACTOR, NOW).answer
        assert [(r.rule, r.message) for r in answer.reasons] == [
            ("customer.channel_opted_out", "The customer opted out of contact on every channel.")
        ]
        assert answer.reasons[0].citation == "Customer preference for any"
    service = command(eu_customer, purpose=Purpose.SERVICE, source=Source.TRANSACTIONAL)
    assert rules(gate, service) == []
    customers.prefer(eu_customer, "any", status=PreferenceStatus.NOT_ASKED)
    assert rules(gate, command(eu_customer)) == []


def test_inbound_only_on_any_holds_on_every_channel(
    gate: Gate, customers: CustomerFactory, eu_customer: str
) -> None:
    customers.prefer(eu_customer, "post", status=PreferenceStatus.OPTED_IN)
    customers.prefer(eu_customer, "any", direction=Direction.INBOUND_ONLY)
    assert rules(gate, command(eu_customer)) == ["customer.inbound_only"]
    assert rules(gate, command(eu_customer, channel=Channel.POST)) == ["customer.inbound_only"]


def test_opted_in_on_any_does_not_stand_in_for_the_channel_s_opt_in(
    gate: Gate, customers: CustomerFactory
) -> None:
    customer_id = customers.create(("ES",))  # no consent, email never asked
    customers.prefer(customer_id, "any", status=PreferenceStatus.OPTED_IN)
    assert "eprivacy.art13_1.e_marketing_consent" in rules(gate, command(customer_id))


def test_a_contact_without_a_channel_is_denied_not_decided_without_its_rules(
    gate: Gate, customers: CustomerFactory, eu_customer: str
) -> None:
    customers.prefer(eu_customer, "email", status=PreferenceStatus.OPTED_OUT)
    for source in (Source.CAMPAIGN, Source.TELEMARKETING, Source.TRANSACTIONAL):
        assert rules(gate, command(eu_customer, channel=None, source=source)) == [
            "gate.channel_missing"
        ]


def test_a_customer_in_a_place_no_pack_covers_is_denied_marketing_not_service(
    gate: Gate, customers: CustomerFactory
) -> None:
    customer_id = customers.create(("CH",), time_zone="Europe/Zurich")
    customers.opted_in_marketing(customer_id)
    assert rules(gate, command(customer_id)) == ["policy.jurisdiction_not_covered"]
    service = command(customer_id, purpose=Purpose.SERVICE, source=Source.TRANSACTIONAL)
    assert rules(gate, service) == []


def test_a_data_use_naming_a_channel_is_denied_and_takes_no_slot(
    gate: Gate, customers: CustomerFactory, eu_customer: str
) -> None:
    """Allowed as an email, a profiling check used up the day's one marketing email."""
    customers.one_email_a_day(eu_customer)
    profiling = command(eu_customer, purpose=Purpose.PROFILING, source=Source.DATA_USE)
    customers.consent(eu_customer, "profiling", captured_at=NOW - timedelta(days=1))
    assert rules(gate, profiling) == ["gate.data_use_channel"]
    assert rules(gate, command(eu_customer)) == []  # the email's slot is still there
    assert rules(gate, replace(profiling, channel=None, idempotency_key="p-2")) == []


def test_withdrawn_purpose_is_denied(
    gate: Gate, customers: CustomerFactory, eu_customer: str
) -> None:
    customers.consent(eu_customer, "profiling", "withdrawn")
    data_use = command(eu_customer, channel=None, purpose=Purpose.PROFILING, source=Source.DATA_USE)
    # The customer's withdrawal, and the law's: no basis left for profiling (GDPR Art 6(1)).
    assert rules(gate, data_use) == [
        "customer.consent_withdrawn",
        "gdpr.art6.lawful_basis.profiling",
    ]


def test_marketing_objection_stops_all_marketing_and_profiling(
    gate: Gate, customers: CustomerFactory, eu_customer: str
) -> None:
    customers.consent(eu_customer, "marketing", "objected", captured_at=NOW - timedelta(hours=1))
    customers.consent(eu_customer, "profiling", "granted", captured_at=NOW - timedelta(days=9))
    sms = command(eu_customer, channel=Channel.POST)
    assert "gdpr.art21.marketing_objection" in rules(gate, sms)
    profiling = command(
        eu_customer, channel=None, purpose=Purpose.PROFILING, source=Source.DATA_USE
    )
    assert rules(gate, profiling) == ["gdpr.art21.marketing_objection"]


def test_quiet_hours_deny_with_the_time_they_end(
    gate: Gate, customers: CustomerFactory, eu_customer: str
) -> None:
    customers.prefer(
        eu_customer, "email", status=PreferenceStatus.OPTED_IN, quiet_hours=(THURSDAY_NOON,)
    )
    answer = gate.check(command(eu_customer), ACTOR, NOW).answer
    assert [r.rule for r in answer.reasons] == ["customer.quiet_hours"]
    assert answer.earliest_allowed_at == NOW + timedelta(hours=1)
    assert answer.valid_until is None


def test_quiet_hours_set_on_any_cite_any(
    gate: Gate, customers: CustomerFactory, eu_customer: str
) -> None:
    customers.prefer(eu_customer, "any", quiet_hours=(THURSDAY_NOON,))
    answer = gate.check(command(eu_customer), ACTOR, NOW).answer
    assert [(r.rule, r.citation) for r in answer.reasons] == [
        ("customer.quiet_hours", "Customer preference for any")
    ]


def test_a_send_at_already_past_is_decided_as_now(
    gate: Gate, customers: CustomerFactory, eu_customer: str
) -> None:
    """Yesterday's send_at, asked during quiet hours, was allowed and valid for a day."""
    customers.prefer(
        eu_customer, "email", status=PreferenceStatus.OPTED_IN, quiet_hours=(THURSDAY_NOON,)
    )
    yesterday = command(eu_customer, send_at=NOW - timedelta(days=1))
    answer = gate.check(yesterday, ACTOR, NOW).answer
    assert [r.rule for r in answer.reasons] == ["customer.quiet_hours"]
    assert answer.send_at == NOW
    one_microsecond_ago = command(eu_customer, send_at=NOW - timedelta(microseconds=1))
    assert rules(gate, one_microsecond_ago) == ["customer.quiet_hours"]
    after_the_quiet_hours = NOW + timedelta(hours=1)
    later = command(eu_customer, send_at=NOW - timedelta(days=1))
    allowed = gate.check(later, ACTOR, after_the_quiet_hours).answer
    assert allowed.reasons == ()
    assert allowed.send_at == after_the_quiet_hours
    assert allowed.valid_until == after_the_quiet_hours + timedelta(hours=24)


def test_an_allow_holds_until_the_customer_s_next_quiet_hours(
    gate: Gate, customers: CustomerFactory, eu_customer: str
) -> None:
    """It held for 24 h, through the night's quiet hours."""
    nights = QuietHours(days=frozenset(range(7)), start=time(22), end=time(8))
    customers.prefer(eu_customer, "any", quiet_hours=(nights,))
    answer = gate.check(command(eu_customer), ACTOR, NOW).answer  # 12:00 in Madrid
    assert answer.reasons == ()
    assert answer.valid_until == datetime(2026, 11, 26, 21, 0, tzinfo=UTC)  # 22:00 in Madrid
    service = command(eu_customer, purpose=Purpose.SERVICE, source=Source.TRANSACTIONAL)
    assert gate.check(service, ACTOR, NOW).answer.valid_until == NOW + timedelta(hours=24)


def test_an_allow_holds_until_the_consent_expires(gate: Gate, customers: CustomerFactory) -> None:
    """It held for 24 h, past the consent's expiry."""
    customer_id = customers.create(("ES",))
    customers.prefer(customer_id, "email", status=PreferenceStatus.OPTED_IN)
    expiry = NOW + timedelta(hours=2)
    customers.consent(
        customer_id, "marketing", captured_at=NOW - timedelta(days=1), expires_at=expiry
    )
    answer = gate.check(command(customer_id), ACTOR, NOW).answer
    assert answer.reasons == ()
    assert answer.valid_until == expiry
    at_expiry = command(customer_id, send_at=expiry)  # the allow would end as it begins
    assert "eprivacy.art13_1.e_marketing_consent" in rules(gate, at_expiry)


def test_sharing_holds_until_the_annual_notice_runs_out(
    gate: Gate, customers: CustomerFactory
) -> None:
    """GLBA 1016.5(a)(1): it held for 24 h, past the end of the notice's 12 months."""
    customer_id = customers.create(("US-TX",), time_zone="America/Chicago", phone=None)
    delivered = NOW - timedelta(days=365) + timedelta(hours=2)  # 2025-11-26 13:00 UTC
    customers.notice(customer_id, "glba_initial", delivered)
    sharing = command(
        customer_id, channel=None, purpose=Purpose.SHARE_THIRD_PARTIES, source=Source.DATA_USE
    )
    answer = gate.check(sharing, ACTOR, NOW).answer
    assert answer.reasons == ()
    ends = datetime(2026, 11, 26, 13, 0, 0, 1, tzinfo=UTC)  # just past its last instant
    assert answer.valid_until == ends
    later = replace(sharing, send_at=ends, idempotency_key=uuid.uuid4().hex)
    assert rules(gate, later) == ["glba.annual_notice"]


def test_frequency_limit_counts_allowed_contacts_and_names_the_next_slot(
    gate: Gate, customers: CustomerFactory, eu_customer: str
) -> None:
    customers.one_email_a_day(eu_customer)
    assert rules(gate, command(eu_customer)) == []
    later = NOW + timedelta(hours=23, minutes=59, seconds=59)
    answer = gate.check(command(eu_customer, send_at=later), ACTOR, NOW).answer
    assert [r.rule for r in answer.reasons] == ["customer.frequency_limit"]
    assert answer.earliest_allowed_at == NOW + timedelta(days=1)
    assert rules(gate, command(eu_customer, send_at=NOW + timedelta(days=1))) == []


def test_customer_wide_limit_spans_channels(
    gate: Gate, customers: CustomerFactory, eu_customer: str
) -> None:
    customers.prefer(eu_customer, "post", status=PreferenceStatus.OPTED_IN)
    customers.prefer(eu_customer, "any", limits=(Limit(1, Period.parse("P7D")),))
    assert rules(gate, command(eu_customer)) == []
    assert rules(gate, command(eu_customer, channel=Channel.POST)) == ["customer.frequency_limit"]


def test_service_messages_are_not_counted_against_limits(
    gate: Gate, customers: CustomerFactory, eu_customer: str
) -> None:
    customers.one_email_a_day(eu_customer)
    service = command(eu_customer, purpose=Purpose.SERVICE, source=Source.TRANSACTIONAL)
    assert rules(gate, service) == []
    assert rules(gate, command(eu_customer)) == []


def test_retry_with_the_same_key_replays_and_counts_nothing(
    gate: Gate, customers: CustomerFactory, eu_customer: str, engine: Engine
) -> None:
    customers.one_email_a_day(eu_customer)
    first = gate.check(command(eu_customer, idempotency_key="k-1"), ACTOR, NOW)
    entries = audit_count(engine, eu_customer)
    again = gate.check(
        command(eu_customer, idempotency_key="k-1"), ACTOR, NOW + timedelta(seconds=5)
    )
    assert again.replayed
    assert not first.replayed
    assert again.answer == first.answer
    assert audit_count(engine, eu_customer) == entries
    # The slot is taken once: a new key is now over the limit of 1.
    assert rules(gate, command(eu_customer)) == ["customer.frequency_limit"]


def test_same_key_with_another_body_is_a_conflict(gate: Gate, eu_customer: str) -> None:
    gate.check(command(eu_customer, idempotency_key="k-2"), ACTOR, NOW)
    with pytest.raises(IdempotencyConflictError):
        gate.check(command(eu_customer, idempotency_key="k-2", channel=Channel.SMS), ACTOR, NOW)


def test_second_check_for_the_same_campaign_is_a_duplicate(gate: Gate, eu_customer: str) -> None:
    assert rules(gate, command(eu_customer, campaign_id="bf-2026")) == []
    assert rules(gate, command(eu_customer, campaign_id="bf-2026")) == ["gate.duplicate"]


def test_failed_outcome_gives_the_slot_back_and_keeps_both_entries(
    gate: Gate, customers: CustomerFactory, eu_customer: str, engine: Engine
) -> None:
    customers.one_email_a_day(eu_customer)
    first = gate.check(command(eu_customer, campaign_id="c-1"), ACTOR, NOW).answer
    entries = audit_count(engine, eu_customer)
    outcome = record_outcome(engine, first.check_id, "failed", ACTOR, NOW + timedelta(minutes=1))
    assert outcome["outcome"] == "failed"
    assert audit_count(engine, eu_customer) == entries + 1
    assert rules(gate, command(eu_customer, campaign_id="c-1")) == []


def test_sent_outcome_keeps_the_slot(
    gate: Gate, customers: CustomerFactory, eu_customer: str, engine: Engine
) -> None:
    customers.one_email_a_day(eu_customer)
    first = gate.check(command(eu_customer), ACTOR, NOW).answer
    record_outcome(engine, first.check_id, "sent", ACTOR, NOW)
    assert rules(gate, command(eu_customer)) == ["customer.frequency_limit"]


def test_event_trigger_allow_is_valid_for_one_hour_and_a_later_send_is_late(
    gate: Gate, eu_customer: str, engine: Engine
) -> None:
    answer = gate.check(command(eu_customer, source=Source.EVENT_TRIGGER), ACTOR, NOW).answer
    assert answer.valid_until == NOW + timedelta(hours=1)
    on_time = record_outcome(engine, answer.check_id, "sent", ACTOR, NOW + timedelta(hours=1))
    assert on_time["late"] is False
    second = gate.check(command(eu_customer, source=Source.EVENT_TRIGGER), ACTOR, NOW).answer
    late = record_outcome(
        engine, second.check_id, "sent", ACTOR, NOW + timedelta(hours=1, seconds=1)
    )
    assert late["late"] is True


def test_outcome_cannot_change_once_recorded(gate: Gate, eu_customer: str, engine: Engine) -> None:
    answer = gate.check(command(eu_customer), ACTOR, NOW).answer
    record_outcome(engine, answer.check_id, "sent", ACTOR, NOW)
    assert record_outcome(engine, answer.check_id, "sent", ACTOR, NOW)["outcome"] == "sent"
    with pytest.raises(OutcomeConflictError):
        record_outcome(engine, answer.check_id, "cancelled", ACTOR, NOW)


def test_denied_check_has_no_outcome(gate: Gate, engine: Engine) -> None:
    answer = gate.check(command("nobody-" + uuid.uuid4().hex), ACTOR, NOW).answer
    with pytest.raises(OutcomeConflictError):
        record_outcome(engine, answer.check_id, "sent", ACTOR, NOW)


def test_dry_run_decides_and_audits_without_reserving(
    gate: Gate, customers: CustomerFactory, eu_customer: str, engine: Engine
) -> None:
    customers.one_email_a_day(eu_customer)
    before = audit_count(engine, eu_customer)
    dry = gate.check(command(eu_customer, dry_run=True, campaign_id="c-2"), ACTOR, NOW).answer
    assert dry.decision == "allow"
    assert dry.dry_run
    assert audit_count(engine, eu_customer) == before + 1
    assert rules(gate, command(eu_customer, campaign_id="c-2")) == []


def test_destination_must_belong_to_the_customer(gate: Gate, eu_customer: str) -> None:
    assert rules(gate, command(eu_customer, destination=" ANA@example.com")) == []
    assert rules(gate, command(eu_customer, destination="eve@example.com")) == [
        "gate.destination_unknown"
    ]
    bad = command(eu_customer, channel=Channel.SMS, destination="not a number")
    assert rules(gate, bad) == ["gate.destination_invalid"]


@pytest.mark.parametrize(
    ("channel", "kind"),
    [
        (Channel.EMAIL, "email"),
        (Channel.SMS, "phone"),
        (Channel.PHONE, "phone"),
        (Channel.POST, "post"),
        (Channel.PUSH, "push"),
    ],
)
def test_a_contact_by_a_channel_with_no_contact_point_on_record_is_denied(
    gate: Gate, customers: CustomerFactory, channel: Channel, kind: str
) -> None:
    """It was decided for nothing and allowed: the address or number the CRM would use was
    never checked against a suppression list or a revocation."""
    customer_id = customers.create(("ES",), email=None, phone=None)
    for purpose, source in (
        (Purpose.MARKETING, Source.CAMPAIGN),
        (Purpose.SERVICE, Source.TRANSACTIONAL),
    ):
        answer = gate.check(
            command(customer_id, channel=channel, purpose=purpose, source=source), ACTOR, NOW
        ).answer
        assert answer.decision == "deny"
        missing = [r for r in answer.reasons if r.rule == "gate.contact_point_missing"]
        assert [r.message.split(",")[0] for r in missing] == [
            f"This customer has no {kind} contact point on record"
        ]


def test_a_data_use_needs_no_contact_point(gate: Gate, customers: CustomerFactory) -> None:
    customer_id = customers.create(("ES",), email=None, phone=None)
    use = command(customer_id, channel=None, purpose=Purpose.PROFILING, source=Source.DATA_USE)
    assert "gate.contact_point_missing" not in rules(gate, use)


def test_a_contact_point_of_the_channel_s_kind_is_enough(
    gate: Gate, customers: CustomerFactory
) -> None:
    customer_id = customers.create(("ES",), email=None, phone="+34600000009")
    service = {"purpose": Purpose.SERVICE, "source": Source.TRANSACTIONAL}
    assert rules(gate, command(customer_id, channel=Channel.SMS, **service)) == []
    email = rules(gate, command(customer_id, channel=Channel.EMAIL, **service))
    assert email == ["gate.contact_point_missing"]


def test_glba_sharing_waits_30_days_after_the_initial_notice(
    gate: Gate, customers: CustomerFactory
) -> None:
    customer_id = customers.create(("US-NY",), time_zone="America/New_York", phone="+12125550123")
    sharing = {"channel": None, "purpose": Purpose.SHARE_THIRD_PARTIES, "source": Source.DATA_USE}
    assert "glba.initial_notice.opt_out_window" in rules(gate, command(customer_id, **sharing))
    customers.notice(customer_id, "glba_initial", NOW - timedelta(days=10))
    answer = gate.check(command(customer_id, **sharing), ACTOR, NOW).answer
    assert answer.earliest_allowed_at == NOW + timedelta(days=20)
    assert rules(gate, command(customer_id, **sharing), NOW + timedelta(days=20)) == []


def test_glba_opt_out_denies_sharing(gate: Gate, customers: CustomerFactory) -> None:
    customer_id = customers.create(("US-NY",), time_zone="America/New_York", phone="+12125550123")
    customers.notice(customer_id, "glba_initial", NOW - timedelta(days=40))
    customers.consent(
        customer_id, "share_third_parties", "withdrawn", captured_at=NOW - timedelta(days=1)
    )
    sharing = command(
        customer_id, channel=None, purpose=Purpose.SHARE_THIRD_PARTIES, source=Source.DATA_USE
    )
    assert "glba.opt_out.third_party_sharing" in rules(gate, sharing)


@pytest.mark.parametrize(
    ("jurisdiction", "zone", "phone", "closes"),
    [
        # The TCPA's 21:00 in New York; Florida's own 20:00 comes first there.
        ("US-NY", "America/New_York", "+12125550123", datetime(2026, 11, 27, 2, tzinfo=UTC)),
        ("US-FL", "America/New_York", "+13055550123", datetime(2026, 11, 27, 1, tzinfo=UTC)),
    ],
)
def test_an_allow_holds_until_the_law_s_calling_hours_close(
    gate: Gate,
    customers: CustomerFactory,
    fresh_national_dnc: None,
    jurisdiction: str,
    zone: str,
    phone: str,
    closes: datetime,
) -> None:
    """An allow for a 19:00 call held for 24 h, through the night the law forbids calls."""
    customer_id = customers.create((jurisdiction,), time_zone=zone, phone=phone)
    customers.written_marketing(customer_id)
    customers.prefer(customer_id, "phone", status=PreferenceStatus.OPTED_IN)
    seven_pm = datetime(2026, 11, 27, 0, tzinfo=UTC)  # Thursday 19:00 in New York and Miami
    call = command(customer_id, channel=Channel.PHONE, source=Source.TELEMARKETING)
    answer = gate.check(replace(call, send_at=seven_pm), ACTOR, seven_pm).answer
    assert answer.reasons == ()
    assert answer.valid_until == closes


def test_tcpa_hours_and_the_customers_quiet_hours_combine_into_one_earliest_time(
    gate: Gate, customers: CustomerFactory
) -> None:
    customer_id = customers.create(("US-NY",), time_zone="America/New_York", phone="+12125550123")
    customers.written_marketing(customer_id)
    thursday_morning = QuietHours(days=frozenset({3}), start=time(8), end=time(10))
    customers.prefer(customer_id, "phone", status=PreferenceStatus.OPTED_IN,
                     quiet_hours=(thursday_morning,))  # fmt: skip
    six_am_new_york = datetime(2026, 11, 26, 11, tzinfo=UTC)
    call = command(customer_id, channel=Channel.PHONE, source=Source.TELEMARKETING)
    answer = gate.check(replace(call, send_at=six_am_new_york), ACTOR, six_am_new_york).answer
    assert [r.rule for r in answer.reasons] == ["tcpa.calling_hours"]
    # 08:00 is the law's opening, but the customer's quiet hours run to 10:00 New York time.
    assert answer.earliest_allowed_at == datetime(2026, 11, 26, 15, tzinfo=UTC)
    assert answer.earliest_allowed_at_local is not None
    assert answer.earliest_allowed_at_local.isoformat() == "2026-11-26T10:00:00-05:00"
