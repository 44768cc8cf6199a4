"""The decision: a pipeline of small checks, each returning the reasons it finds.

Nothing stops early: every reason that applies is reported, so that a person reading a deny
learns everything that stands in the way. The law comes from the policy engine; what is
decided here is what the customer chose and what the gate itself guarantees.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import NamedTuple

from consent.contacts import contact_kind_for_channel
from consent.frequency import exceeds, next_free_slot
from consent.preferences import ChannelPreference, QuietHours, governing_channel
from consent.quiet_hours import next_quiet_start, quiet_until
from consent.state import CustomerState
from consent.suppression import ERASED_CUSTOMERS
from policy.engine import PolicyEngine
from policy.facts import ConsentFact, Facts, ListFact
from policy.fast_init import fast_init
from policy.kinds.revocations import standing_revocations
from policy.reasons import Reason
from policy.vocabulary import (
    Channel,
    ConsentStatus,
    DataCategory,
    Direction,
    LegalException,
    PreferenceChannel,
    PreferenceStatus,
    Purpose,
    Source,
)

CUSTOMER = "customer"  # regime of the customer's own choices, which bind everywhere
GATE = "gate"  # regime of what the gate itself guarantees


@fast_init
@dataclass(frozen=True, slots=True)
class ContactRequest:
    channel: Channel | None
    purpose: Purpose
    source: Source
    send_at: datetime
    campaign_id: str | None = None
    destination_hash: bytes | None = None  # keyed hash of the normalised destination
    # Autodialed, prerecorded or artificial voice, unless the caller says it is manual.
    automated: bool = True
    # Every loaded suppression list and whether this contact is on it; read by the gate
    # only when a rule consults lists, and for marketing (see Gate._reads_lists).
    lists: Mapping[str, ListFact] = field(default_factory=dict)
    # The named exception the caller invokes and what the disclosure includes, as it says.
    exception: LegalException | None = None
    data_categories: frozenset[DataCategory] = frozenset()

    def with_lists(self, lists: Mapping[str, ListFact]) -> "ContactRequest":
        """The same request with the lists read for it. Spelt out, not dataclasses.replace,
        which walks every field's metadata: this runs on every check that reads lists."""
        return ContactRequest(
            channel=self.channel,
            purpose=self.purpose,
            source=self.source,
            send_at=self.send_at,
            campaign_id=self.campaign_id,
            destination_hash=self.destination_hash,
            automated=self.automated,
            lists=lists,
            exception=self.exception,
            data_categories=self.data_categories,
        )


class Reservation(NamedTuple):
    """An allowed contact that counts against the customer's limits while ``reserved``, and
    against the law's caps while it is an attempt: reserved, or reported ``failed``.

    A named tuple, not a frozen dataclass: one is built for every live reservation of every
    check, and a frozen dataclass's ``__init__`` (``object.__setattr__`` a field) cost
    three times as much.
    """

    send_at: datetime
    channel: Channel | None
    campaign_id: str | None
    counts: bool = True  # False for service messages, which no frequency limit counts
    purpose: Purpose = Purpose.MARKETING
    reserved: bool = True  # False once reported failed: only the law's caps still count it


def unknown_customer(customer_id: str) -> Reason:
    return Reason(
        rule="gate.customer_unknown",
        regime=GATE,
        citation="Consent Gate: unknown is deny",
        message=f"No customer {customer_id!r} is on record, so no consent can be shown.",
    )


def erased_customer() -> Reason:
    return Reason(
        rule="gate.customer_erased",
        regime=GATE,
        citation="GDPR (EU) 2016/679 Art 17",
        message="This customer's data was erased; they may not be contacted.",
    )


def _citation(pref: ChannelPreference) -> str:
    source = f" (source: {pref.source})" if pref.source else ""
    return f"Customer preference for {pref.channel}{source}"


def _governed_channel(req: ContactRequest) -> PreferenceChannel | None:
    """Channel preferences govern contacts, not data use; service messages are exempt."""
    if req.channel is None or req.purpose is Purpose.SERVICE:
        return None
    return governing_channel(req.channel)


def _destination(
    state: CustomerState, req: ContactRequest, _: Sequence[Reservation]
) -> list[Reason]:
    if req.channel is None:
        return []
    kind = contact_kind_for_channel(req.channel)
    on_record = state.contact_hashes.get(kind, frozenset())
    if req.destination_hash is None:
        # Decided for the customer's own contact points: with none, for nothing. A number
        # the gate never saw cannot be checked against a do-not-call list or a revocation.
        return [] if on_record else [_NO_CONTACT_POINT[kind]]
    if req.destination_hash in on_record:
        return []
    return [
        Reason(
            rule="gate.destination_unknown",
            regime=GATE,
            citation="Consent Gate: the destination must belong to the customer",
            message=f"The {kind} destination is not one of this customer's contact points.",
        )
    ]


_NO_CONTACT_POINT = {
    kind: Reason(
        rule="gate.contact_point_missing",
        regime=GATE,
        citation="Consent Gate: a contact goes to one of the customer's contact points",
        message=(
            f"This customer has no {kind} contact point on record, so where the contact "
            "would go cannot be checked: add it to the customer (PUT /v1/customers/{id})."
        ),
    )
    for kind in {contact_kind_for_channel(channel) for channel in Channel}
}


def _channel_named(
    state: CustomerState, req: ContactRequest, _: Sequence[Reservation]
) -> list[Reason]:
    """A contact names its channel, and a data use names none. The API refuses either
    mismatch (422); any other caller is denied: a contact is never decided without its
    channel's rules, nor a data use reserved as a contact on a channel."""
    if (req.channel is None) == (req.source is Source.DATA_USE):
        return []
    if req.channel is None:
        return [
            Reason(
                rule="gate.channel_missing",
                regime=GATE,
                citation="Consent Gate: a contact names its channel",
                message=f"A {req.source} contact must name its channel; without one no "
                "channel preference can be read.",
            )
        ]
    return [_CHANNEL_ON_DATA_USE]


_CHANNEL_ON_DATA_USE = Reason(
    rule="gate.data_use_channel",
    regime=GATE,
    citation="Consent Gate: a data use names no channel",
    message="A data_use check names no channel: a data use is not a contact, and allowed as "
    "one it would count against the customer's limits on that channel.",
)


def _channel_choice(
    state: CustomerState, req: ContactRequest, _: Sequence[Reservation]
) -> list[Reason]:
    """The channel's own status and direction, and those set on ``any`` for every channel.

    ``any`` only restricts: opted out or inbound only there holds on each channel whatever
    the channel says (until ``any`` is changed), as its limits and quiet hours do; opted in
    there does not stand in for a channel's own opt-in. Until 2026-12-07 its status and
    direction were recorded and ignored: "opt me out of everything" allowed the next email.
    """
    channel = _governed_channel(req)
    if channel is None:
        return []
    reasons = []
    for pref in (state.preference(channel), state.preference(PreferenceChannel.ANY)):
        if pref.status is PreferenceStatus.OPTED_OUT:
            scope = _scope(pref, req)
            reasons.append(
                _chosen(pref, "customer.channel_opted_out", f"opted out of contact {scope}.")
            )
        if pref.direction is Direction.INBOUND_ONLY:
            scope = _scope(pref, req)
            reasons.append(
                _chosen(
                    pref,
                    "customer.inbound_only",
                    f"only contacts us {scope}; we never contact them.",
                )
            )
    return reasons


def _scope(pref: ChannelPreference, req: ContactRequest) -> str:
    return "on every channel" if pref.channel is PreferenceChannel.ANY else f"by {req.channel}"


def _chosen(pref: ChannelPreference, rule: str, what: str) -> Reason:
    """The customer's own choice, set on ``pref``, as a reason."""
    return Reason(
        rule=rule,
        regime=CUSTOMER,
        citation=_citation(pref),
        message=f"The customer {what}",
    )


def _outside_the_opt_out(req: ContactRequest) -> bool:
    """A sharing opt-out does not reach disclosures under a named exception: 12 CFR
    1016.10(a)(2) defines it as a direction not to disclose "other than as permitted by
    1016.13, 1016.14 and 1016.15" (a subpoena, fraud prevention, a service provider...).
    The law's own rules still judge the disclosure (glba.toml); an objection still binds."""
    return req.exception is not None and req.purpose is Purpose.SHARE_THIRD_PARTIES


def _purpose_choice(
    state: CustomerState, req: ContactRequest, _: Sequence[Reservation]
) -> list[Reason]:
    fact = state.consents.get(req.purpose)
    if fact is None or fact.status is ConsentStatus.GRANTED:
        return []
    if _outside_the_opt_out(req) and fact.status is ConsentStatus.WITHDRAWN:
        return []
    if fact.status is ConsentStatus.OBJECTED:
        return [
            Reason(
                rule="customer.purpose_objected",
                regime=CUSTOMER,
                citation=f"Customer objection to {req.purpose} "
                f"recorded {fact.captured_at:%Y-%m-%d}",
                message=f"The customer objected to the use of their data for {req.purpose}.",
            )
        ]
    return [
        Reason(
            rule="customer.consent_withdrawn",
            regime=CUSTOMER,
            citation=f"Customer withdrawal for {req.purpose} recorded {fact.captured_at:%Y-%m-%d}",
            message=f"The customer withdrew consent to {req.purpose}.",
        )
    ]


def _revoked(state: CustomerState, req: ContactRequest, _: Sequence[Reservation]) -> list[Reason]:
    """A STOP or do-not-call request on this channel stops every purpose but service, until
    a consent granted later for the purpose supersedes it."""
    if _governed_channel(req) is None or req.channel is None:
        return []
    found = standing_revocations(
        state.revocations, (req.channel,), req.purpose, state.consents, req.send_at
    )
    if not found:
        return []
    latest = found[-1]
    return [
        Reason(
            rule="customer.revoked",
            regime=CUSTOMER,
            citation=f"Customer revocation by {latest.channel} recorded "
            f"{latest.recorded_at:%Y-%m-%d %H:%M:%S} UTC",
            message=f"The customer asked us to stop contacting them by {req.channel}.",
        )
    ]


def _erased_contact(
    state: CustomerState, req: ContactRequest, _: Sequence[Reservation]
) -> list[Reason]:
    """An address or number of an erased customer (``erased_customers``) is not marketed
    to, under any record, until a consent given on or after the day of the erasure: the
    refusal the erasure expressed outlives the record it erased."""
    kept = req.lists.get(ERASED_CUSTOMERS)
    if req.purpose is not Purpose.MARKETING or kept is None or not kept.listed:
        return []
    consent = state.consents.get(Purpose.MARKETING)
    if kept.listed_on is not None and _consented_since(consent, kept.listed_on, req.send_at):
        return []
    since = f" on {kept.listed_on}" if kept.listed_on is not None else ""
    return [
        Reason(
            rule="customer.erased_contact",
            regime=CUSTOMER,
            citation=f"Erasure of a customer with this contact point recorded{since}",
            message="This address or number belonged to a customer whose data was erased at "
            "their request; it is not marketed to without a consent given since.",
        )
    ]


def _consented_since(consent: ConsentFact | None, day: date, at: datetime) -> bool:
    return (
        consent is not None and consent.grants_consent_at(at) and day <= consent.captured_at.date()
    )


def _frequency(
    state: CustomerState, req: ContactRequest, history: Sequence[Reservation]
) -> list[Reason]:
    governed = _governed_channel(req)
    if governed is None:
        return []
    reasons = []
    for channel in (governed, PreferenceChannel.ANY):
        pref = state.preference(channel)
        if not pref.limits:  # the usual case for "any": nothing to count
            continue
        # Asked once, not per reservation: on Python 3.11 an Enum member's attribute look-up
        # goes through EnumType.__getattr__'s slow path (~1k instructions).
        everywhere = channel is PreferenceChannel.ANY
        existing = [
            r.send_at
            for r in history
            if r.counts and r.reserved and (everywhere or r.channel == req.channel)
        ]
        for limit in pref.limits:
            if exceeds(limit, existing, req.send_at):
                scope = "across all channels" if everywhere else f"by {channel}"
                reasons.append(
                    Reason(
                        rule="customer.frequency_limit",
                        regime=CUSTOMER,
                        citation=f"{_citation(pref)}: at most {limit.count} per {limit.period}",
                        message=f"The customer allows at most {limit.count} contact(s) {scope} "
                        f"in any {limit.period}; that many are already planned or made.",
                        earliest_allowed_at=next_free_slot(limit, existing, req.send_at),
                    )
                )
    return reasons


def _quiet_hours(
    state: CustomerState, req: ContactRequest, _: Sequence[Reservation]
) -> list[Reason]:
    channel = _governed_channel(req)
    if channel is None:
        return []
    pref = state.preference(channel)
    everywhere = state.preference(PreferenceChannel.ANY)
    zones = state.time_zones()
    end = quiet_until(_quiet_windows(state, channel), zones, req.send_at)
    if end is None:
        return []
    # Cite the preference that holds the window: the channel's own if it has one now.
    cited = pref if quiet_until(pref.quiet_hours, zones, req.send_at) is not None else everywhere
    return [
        Reason(
            rule="customer.quiet_hours",
            regime=CUSTOMER,
            citation=_citation(cited),
            message="The customer asked not to be contacted at this time of their local day.",
            earliest_allowed_at=end,
        )
    ]


def allow_holds_until(
    state: CustomerState, req: ContactRequest, facts: Facts, engine: PolicyEngine, until: datetime
) -> datetime:
    """How long an allow at ``req.send_at`` holds, at most ``until``: the first instant
    time alone would deny it. The customer's own choices (their consent to the purpose
    expiring, one of their quiet windows starting), then the law's (``holds_until``: calling
    hours closing, a list's copy going stale). An allow for noon used to stay valid for
    24 h, through the night's quiet hours and the law's calling hours.
    """
    ends = [until]
    fact = state.consents.get(req.purpose)
    if fact is not None and fact.expires_at is not None and req.send_at < fact.expires_at:
        ends.append(fact.expires_at)
    channel = _governed_channel(req)
    if channel is not None:
        windows = _quiet_windows(state, channel)
        if windows:  # the usual case has none: no zones to work out
            start = next_quiet_start(windows, state.time_zones(), req.send_at, until)
            if start is not None:
                ends.append(start)
    return engine.holds_until(facts, min(ends))


def _quiet_windows(state: CustomerState, channel: PreferenceChannel) -> tuple[QuietHours, ...]:
    """The channel's own quiet hours and the customer-wide ones (set on ``any``)."""
    everywhere = state.preference(PreferenceChannel.ANY)
    return state.preference(channel).quiet_hours + everywhere.quiet_hours


def _duplicate(
    state: CustomerState, req: ContactRequest, history: Sequence[Reservation]
) -> list[Reason]:
    if req.campaign_id is None:
        return []
    if not any(
        r.campaign_id == req.campaign_id and r.channel == req.channel and r.reserved
        for r in history
    ):
        return []
    return [
        Reason(
            rule="gate.duplicate",
            regime=GATE,
            citation="Consent Gate: one contact per campaign, customer and channel",
            message=f"Campaign {req.campaign_id!r} already reached this customer by {req.channel}.",
        )
    ]


_Check = Callable[[CustomerState, ContactRequest, Sequence[Reservation]], list[Reason]]
_CHECKS: tuple[_Check, ...] = (
    _destination,
    _channel_named,
    _channel_choice,
    _purpose_choice,
    _revoked,
    _erased_contact,
    _frequency,
    _quiet_hours,
    _duplicate,
)


def facts_for(
    state: CustomerState, req: ContactRequest, history: Sequence[Reservation] = ()
) -> Facts:
    channel_status = (
        state.preference(governing_channel(req.channel)).status
        if req.channel is not None
        else PreferenceStatus.NOT_ASKED
    )
    return Facts(
        jurisdictions=state.jurisdictions,
        channel=req.channel,
        purpose=req.purpose,
        source=req.source,
        send_at=req.send_at,
        consents=state.consents,
        channel_status=channel_status,
        notices=state.notices,
        relationship=state.relationship,
        time_zones=state.known_time_zones(),
        automated=req.automated,
        revocations=state.revocations,
        lists=req.lists,
        recent_contacts=tuple(r for r in history if r.counts),
        exception=req.exception,
        data_categories=req.data_categories,
    )


def refusals_standing(state: CustomerState, req: ContactRequest) -> tuple[Reason, ...]:
    """The customer's own choices that stand against this contact now: an opt-out or an
    inbound-only direction (the channel's or ``any``'s), a withdrawal or an objection, a
    STOP. Asked of a contact allowed earlier when it is reported sent."""
    return tuple(
        reason
        for check in (_channel_choice, _purpose_choice, _revoked)
        for reason in check(state, req, ())
    )


def reasons_against(
    state: CustomerState, req: ContactRequest, history: Sequence[Reservation], engine: PolicyEngine
) -> tuple[Reason, ...]:
    """Every reason not to make this contact; empty means allow."""
    return judged(state, req, history, engine)[0]


def judged(
    state: CustomerState, req: ContactRequest, history: Sequence[Reservation], engine: PolicyEngine
) -> tuple[tuple[Reason, ...], Facts]:
    """The reasons, and the facts the law judged (``allow_holds_until`` reads them again)."""
    found: list[Reason] = []
    for check in _CHECKS:
        found.extend(check(state, req, history))
    facts = facts_for(state, req, history)
    found.extend(engine.evaluate(facts))
    return tuple(found), facts


_MAX_STEPS = 16  # each step jumps to the next boundary; a real schedule settles in a few


def earliest_allowed(
    state: CustomerState,
    req: ContactRequest,
    history: Sequence[Reservation],
    engine: PolicyEngine,
    reasons: Sequence[Reason],
) -> datetime | None:
    """When only time stands in the way, the first instant every rule allows; else None.

    Moving past one boundary can land in another (quiet hours end, but the frequency window
    has not), so step to the latest boundary and decide again until nothing objects.
    """
    current = reasons
    for _ in range(_MAX_STEPS):
        if not current:
            return req.send_at
        boundaries = [r.earliest_allowed_at for r in current]
        if any(b is None for b in boundaries):
            return None
        req = replace(req, send_at=max(b for b in boundaries if b is not None))
        current = reasons_against(state, req, history, engine)
    return None
