"""Probes for the process manager and the load balancer: alive, and ready to decide."""

from fastapi import APIRouter

from api.deps import ServicesDep
from consent.store.database import store_answers

router = APIRouter(include_in_schema=False)


# HEAD too: load balancers' health checks often send it (HAProxy's ``httpchk HEAD``), and a
# 405 there took the instance out of service.
@router.api_route("/healthz", methods=["GET", "HEAD"])
async def healthz(svc: ServicesDep) -> dict[str, str]:
    """Alive: the process answers. Nothing else is looked at, so a restart never follows a
    store outage that every instance shares."""
    return {"status": "ok", "policy_version": svc.policy.version}


@router.api_route("/readyz", methods=["GET", "HEAD"])
def readyz(svc: ServicesDep) -> dict[str, str]:
    """Ready: the store answers a query, so a check would be decided rather than refused.
    A store that does not is a 503 ``store-unavailable`` problem, as a check would get."""
    store_answers(svc.engine)
    return {"status": "ready", "policy_version": svc.policy.version}
