"""The application factory: settings in, a ready service out, or a clear refusal to start."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from api import errors, gc_tuning
from api.auth import KeyCache, load_enforcer
from api.body_limit import BodyLimitMiddleware
from api.deps import Services
from api.fast_path import FastPath
from api.logs import RequestLogMiddleware, configure_logging
from api.media_type import JsonMediaTypeMiddleware
from api.routes import checks, customers, probes, revocations, suppression_lists
from api.schemas.checks import CheckIn
from api.settings import Settings
from consent.crypto import KeyRing
from consent.gate import Gate, GateSettings
from consent.store.database import make_engine
from consent.store.migrate import migrate
from policy.engine import PolicyEngine

DESCRIPTION = """
Every outbound contact (email, SMS, call, letter, push) passes `POST /v1/checks` first: one
atomic call that decides allow or deny, says why (rule, regime, citation), counts the contact
against the customer's limits and writes it to the tamper-evident audit log.

Authenticate with `Authorization: Bearer <api key>` (`consent keys create`). Errors are
RFC 9457 `application/problem+json`; branch on their `type`.
"""


def build_services(settings: Settings) -> Services:
    settings.refuse_insecure_defaults()
    policy = PolicyEngine.load(settings.policies_dir)  # a bad pack stops the start, not a contact
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    migrate(engine)
    keyring = KeyRing(settings.master_key_bytes)
    gate = Gate(
        engine,
        policy,
        keyring,
        GateSettings(
            event_trigger_validity=settings.event_trigger_validity,
            default_validity=settings.check_validity,
            store_connections=settings.db_pool_size,
        ),
    )
    return Services(
        engine=engine,
        keyring=keyring,
        policy=policy,
        gate=gate,
        keys=KeyCache(engine, settings.auth_cache_seconds),
        allowed=load_enforcer(settings.policies_dir),
    )


def _openapi_with(app: FastAPI, extra_models: tuple[type[BaseModel], ...]) -> dict[str, Any]:
    """FastAPI's schema, plus the bodies that hot routes parse themselves (see checks.py)."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in extra_models:
            document = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(document.pop("$defs", {}))
            components[model.__name__] = document
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, cache_loggers=settings.log_cache_loggers)
    services = build_services(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await services.gate.open_async()  # PostgreSQL's pool belongs to this event loop
        gc_tuning.tune_once()
        yield
        await services.gate.close_async()
        services.gate.close()  # the SQLite writer finishes its batch and stops

    telemetry = settings.opentelemetry
    app = FastAPI(
        title="Consent Gate",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        telemetry={"tracing": telemetry, "metrics": telemetry, "logs": telemetry},
        strict_content_type=False,  # none reads as JSON; any other is a 415 (media_type.py)
    )
    app.state.services = services
    errors.install(app)
    app.include_router(checks.router)
    app.include_router(customers.router)
    app.include_router(suppression_lists.router)
    app.include_router(revocations.router)
    app.include_router(probes.router)
    app.add_middleware(JsonMediaTypeMiddleware)  # inside the fast path: the check asks itself
    app.add_middleware(FastPath, route=checks.check_route())
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLogMiddleware)  # added last, so outside: it logs both paths

    app.openapi = partial(_openapi_with, app, extra_models=(CheckIn,))  # type: ignore[method-assign]

    return app
