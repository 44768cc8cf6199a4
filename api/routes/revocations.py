"""A customer's STOP reply or do-not-call request, honoured from the moment it is recorded."""

from fastapi import APIRouter, Depends, status

from api.deps import CurrentCaller, ServicesDep, actor_of, no_repeated_keys, utc_now
from api.past import reject_future
from api.routes.customers import CustomerPath
from api.schemas.customers import RevocationIn, RevocationOut
from consent.revocations import RevocationRequest, record_revocation
from consent.store.database import transaction

router = APIRouter(
    prefix="/v1/customers", tags=["customers"], dependencies=[Depends(no_repeated_keys)]
)


@router.post(
    "/{customer_id}/revocations",
    status_code=status.HTTP_201_CREATED,
    response_model=RevocationOut,
)
def post_revocation(
    customer_id: CustomerPath, body: RevocationIn, caller: CurrentCaller, svc: ServicesDep
) -> dict[str, object]:
    """Record a revocation by any words: it stops every purpose but service on the channel
    (and, for US customers, calls and texts alike) from now on, until a later consent."""
    now = utc_now()
    reject_future(now, {("body", "received_at"): body.received_at}, "leave it out to mean now")
    request = RevocationRequest(
        channel=body.channel,
        words=body.words,
        received_at=body.received_at or now,
        destination=body.destination,
    )
    with transaction(svc.engine) as conn:
        revocation = record_revocation(
            conn, svc.keyring, customer_id, request, actor_of(caller), now
        )
    return {"customer_id": customer_id, **revocation.document()}
