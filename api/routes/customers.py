"""Customer records: profile, preferences, consents, notices."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response, status
from fastapi.responses import StreamingResponse

from api.deps import CurrentCaller, ServicesDep, actor_of, no_repeated_keys, utc_now
from api.json_stream import object_with_array
from api.past import reject_future
from api.schemas.customers import (
    ConsentIn,
    CustomerId,
    CustomerIn,
    NoticeIn,
    PreferenceIn,
    Recorded,
)
from consent.answers import instant
from consent.changes import (
    ConsentRecord,
    NoticeRecord,
    record_consent,
    record_notice,
    set_preference,
)
from consent.customers import (
    CustomerProfile,
    ProfileView,
    erase_customer,
    read_profile,
    upsert_customer,
)
from consent.exports import export_customer
from consent.preferences import ChannelPreference, Limit, QuietHours, preference_to_json
from consent.revocations import revocation_history
from consent.state import relationship_to_json
from consent.store.database import read_transaction, transaction
from policy.facts import Relationship
from policy.periods import Period
from policy.vocabulary import PreferenceChannel

router = APIRouter(
    prefix="/v1/customers", tags=["customers"], dependencies=[Depends(no_repeated_keys)]
)
CustomerPath = Annotated[CustomerId, Path()]


@router.put("/{customer_id}", status_code=status.HTTP_200_OK, response_model=Recorded)
def put_customer(
    customer_id: CustomerPath,
    body: CustomerIn,
    caller: CurrentCaller,
    svc: ServicesDep,
    response: Response,
) -> Recorded:
    """Create or replace a customer by the CRM's own id. Contact points are replaced as a set."""
    now = utc_now()
    relationship = body.relationship
    reject_future(
        now,
        {
            ("body", "birth_date"): body.birth_date,
            ("body", "relationship", "customer_since"): relationship.customer_since,
            ("body", "relationship", "last_purchase_at"): relationship.last_purchase_at,
            ("body", "relationship", "last_inquiry_at"): relationship.last_inquiry_at,
        },
    )
    profile = CustomerProfile(
        jurisdictions=frozenset(body.jurisdictions),
        time_zone=body.time_zone,
        birth_date=body.birth_date,
        relationship=Relationship(**body.relationship.model_dump()),
        contact_points=body.contact_points.model_dump(),
    )
    with transaction(svc.engine) as conn:
        result = upsert_customer(conn, svc.keyring, customer_id, profile, actor_of(caller), now)
    if result.created:
        response.status_code = status.HTTP_201_CREATED
    return Recorded(audit_entry_id=result.audit_entry_id)


@router.get("/{customer_id}")
def get_customer(
    customer_id: CustomerPath, caller: CurrentCaller, svc: ServicesDep
) -> dict[str, Any]:
    """The profile, every channel preference and the current consent per purpose."""
    with read_transaction(svc.engine) as conn:  # on SQLite no writer waits for it
        view = read_profile(conn, svc.keyring, customer_id)
        revocations = revocation_history(conn, view.state)
    return {
        **_profile_document(view),
        # STOP replies and do-not-call requests, oldest received first.
        "revocations": [r.document() for r in revocations],
    }


@router.get(
    "/{customer_id}/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The customer's data and every check, as one JSON object",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def export_customer_data(
    customer_id: CustomerPath, caller: CurrentCaller, svc: ServicesDep
) -> StreamingResponse:
    """Everything held about the customer, in one document (GDPR Art 15 and 20): the
    profile as `GET /v1/customers/{id}` shows it, and every check decided for them, each as
    `GET /v1/checks/{id}` shows it, by send time. The export is audited
    (`customer.exported`); `audit_entry_id` is its entry. The checks are read and sent a
    page at a time."""
    now = utc_now()
    export = export_customer(svc.engine, svc.keyring, customer_id, actor_of(caller), now)
    head = {
        **_profile_document(export.profile),
        "revocations": [r.document() for r in export.revocations],
    }
    tail = {"exported_at": instant(now), "audit_entry_id": export.audit_entry_id}
    body = object_with_array(head, "checks", export.checks, tail)
    return StreamingResponse(body, media_type="application/json")


@router.delete("/{customer_id}", response_model=Recorded)
def delete_customer(customer_id: CustomerPath, caller: CurrentCaller, svc: ServicesDep) -> Recorded:
    """Erase the customer (GDPR Art 17): their data key is destroyed, so their contact details
    and birth date, here and sealed in the audit log, can no longer be read; contact points,
    preferences and the words of their revocations go. The record stays as a tombstone: every
    later check for them is denied (`gate.customer_erased`) and the id cannot be re-created.
    Their consent receipts and the audit log stay, as proof of what was done (Art 17(3)(e))."""
    with transaction(svc.engine) as conn:
        seq = erase_customer(conn, customer_id, actor_of(caller), utc_now())
    return Recorded(audit_entry_id=seq)


@router.put("/{customer_id}/preferences/{channel}", response_model=Recorded)
def put_preference(
    customer_id: CustomerPath,
    channel: PreferenceChannel,
    body: PreferenceIn,
    caller: CurrentCaller,
    svc: ServicesDep,
) -> Recorded:
    """Set one channel's preference.

    Channel ``any`` is customer-wide: its limits count contacts on every channel, its quiet
    hours, ``opted_out`` and ``inbound_only`` hold on every channel whatever the channel
    itself says. Its ``opted_in`` does not stand in for a channel's own opt-in.
    """
    pref = ChannelPreference(
        channel=channel,
        status=body.status,
        direction=body.direction,
        limits=tuple(Limit(item.count, Period.parse(item.period)) for item in body.limits),
        quiet_hours=tuple(
            QuietHours(q.weekday_numbers(), q.start, q.end) for q in body.quiet_hours
        ),
        source=body.source,
    )
    with transaction(svc.engine) as conn:
        seq = set_preference(conn, customer_id, pref, actor_of(caller), utc_now())
    return Recorded(audit_entry_id=seq)


@router.post(
    "/{customer_id}/consents", status_code=status.HTTP_201_CREATED, response_model=Recorded
)
def post_consent(
    customer_id: CustomerPath, body: ConsentIn, caller: CurrentCaller, svc: ServicesDep
) -> Recorded:
    """Record a consent change as a new receipt; history is never overwritten."""
    now = utc_now()
    reject_future(now, {("body", "captured_at"): body.captured_at}, "leave it out to mean now")
    record = ConsentRecord(
        purpose=body.purpose,
        status=body.status,
        captured_at=body.captured_at or now,
        legal_basis=body.legal_basis,
        notice_version=body.notice_version,
        source=body.source,
        expires_at=body.expires_at,
        form=body.form,
    )
    with transaction(svc.engine) as conn:
        seq = record_consent(conn, svc.keyring, customer_id, record, actor_of(caller), now)
    return Recorded(audit_entry_id=seq)


@router.post("/{customer_id}/notices", status_code=status.HTTP_201_CREATED, response_model=Recorded)
def post_notice(
    customer_id: CustomerPath, body: NoticeIn, caller: CurrentCaller, svc: ServicesDep
) -> Recorded:
    """Record a privacy notice delivered to the customer (e.g. GLBA initial or annual)."""
    now = utc_now()
    reject_future(now, {("body", "delivered_at"): body.delivered_at})
    record = NoticeRecord(kind=body.kind, delivered_at=body.delivered_at, method=body.method)
    with transaction(svc.engine) as conn:
        seq = record_notice(conn, customer_id, record, actor_of(caller), now)
    return Recorded(audit_entry_id=seq)


def _profile_document(view: ProfileView) -> dict[str, Any]:
    state = view.state
    return {
        "customer_id": state.external_id,
        "jurisdictions": sorted(state.jurisdictions),
        "time_zone": state.time_zone,
        "birth_date": view.birth_date.isoformat() if view.birth_date else None,
        "relationship": relationship_to_json(state.relationship),
        "contact_points": {kind: list(values) for kind, values in view.contact_points.items()},
        "preferences": {
            str(channel): preference_to_json(state.preference(channel))
            for channel in PreferenceChannel
        },
        "consents": {
            str(purpose): {
                "status": str(fact.status),
                "captured_at": instant(fact.captured_at),
                "expires_at": instant(fact.expires_at),
                "written": fact.written,
                "age_at_capture": fact.age_at_capture,
                "legal_basis": fact.legal_basis,
            }
            for purpose, fact in state.consents.items()
        },
        "notices": {kind: [instant(at) for at in times] for kind, times in state.notices.items()},
        # Every receipt, oldest first: a change is a new record, never an overwrite.
        "consent_history": [
            {
                "purpose": row["purpose"],
                "status": row["status"],
                "legal_basis": row["legal_basis"],
                "notice_version": row["notice_version"],
                "source": row["source"],
                "captured_at": instant(row["captured_at"]),
                "expires_at": instant(row["expires_at"]),
                "recorded_at": instant(row["recorded_at"]),
                "form": row["form"],
            }
            for row in view.consent_history
        ],
    }
