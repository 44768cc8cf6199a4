"""What every endpoint needs, as FastAPI dependencies: the services and the caller."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import Engine

from api.auth import KeyCache, authorise, bearer_token
from api.errors import ApiProblem, refuse_repeated_keys
from api.media_type import METHODS_WITH_BODY
from audit.entry import Actor
from consent.crypto import KeyRing
from consent.gate import Gate
from consent.keys import Caller
from policy.engine import PolicyEngine


@dataclass(frozen=True)
class Services:
    engine: Engine
    keyring: KeyRing
    policy: PolicyEngine
    gate: Gate
    keys: KeyCache
    allowed: Callable[[str, str, str], bool]


async def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


async def current_caller(
    request: Request,
    svc: ServicesDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Caller:
    return await caller_of(request, svc, authorization)


async def caller_of(request: Request, svc: Services, authorization: str | None) -> Caller:
    """Who is calling, and may they call this route (401 / 403 otherwise).

    async, so that the per-request check costs no thread hop; only a cache miss waits on
    the store, in the thread pool.
    """
    presented = bearer_token(authorization)
    known, caller = svc.keys.cached(presented)
    if not known:
        caller = await svc.keys.look_up(presented)
    if caller is None:
        raise ApiProblem(401, "unauthenticated", "Unauthenticated", "unknown or revoked API key")
    # The route's template; the URL (costly to build) only when no route matched.
    route = getattr(request.scope.get("route"), "path", None) or request.url.path
    authorise(caller, svc.allowed, route, request.method, request.path_params.get("customer_id"))
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]


async def no_repeated_keys(request: Request, _: CurrentCaller) -> None:
    """Refuse a JSON body that gives a key twice (a router's dependency, FastAPI having
    parsed the body; after the caller, so that a 401 or 403 comes first as for any body)."""
    if request.method in METHODS_WITH_BODY:
        refuse_repeated_keys(await request.body())


def actor_of(caller: Caller) -> Actor:
    return Actor(name=caller.name, role=str(caller.role))


def utc_now() -> datetime:
    """The one place the API reads the clock; the domain takes ``now`` as a parameter."""
    return datetime.now(UTC)
