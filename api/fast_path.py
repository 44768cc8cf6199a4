"""``POST /v1/checks`` straight to its endpoint, past FastAPI's routing and dependencies.

Every outbound contact passes this one route, so its dispatch is on the hot path. Through
FastAPI's exception middleware, router, request handler and dependency solving the same
request cost ~170 us more server CPU (py-spy on this machine), as much as deciding and
recording the check itself. The endpoint, the contract and the error handlers are the
same ones; only the dispatch is shorter. The route stays registered, so OpenAPI documents
it and whatever the fast path leaves alone (a root path, a trailing slash, another method)
reaches it the usual way.
"""

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[Request, Exception], Any]


class FastPath:
    """Takes one POST route (an endpoint that reads its own request) out of the router."""

    def __init__(self, app: ASGIApp, route: APIRoute) -> None:
        self.app = app
        self._route = route
        self._endpoint: Endpoint = route.endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._takes(scope):
            await self.app(scope, receive, send)
            return
        scope["route"] = self._route  # as the router sets it: for authorisation and logs
        request = Request(scope, receive)
        try:
            response = await self._endpoint(request)
        except Exception as exc:
            handler = _handler_for(scope["app"].exception_handlers, exc)
            if handler is None:  # the server-error handler, outside, answers and logs it
                raise
            response = handler(request, exc)
            if inspect.isawaitable(response):
                response = await response
        await response(scope, receive, send)

    def _takes(self, scope: Scope) -> bool:
        return (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == self._route.path
            and not scope.get("root_path")
        )


def _handler_for(handlers: Mapping[Any, Handler], exc: Exception) -> Handler | None:
    """The handler the exception middleware would pick: the nearest class in the MRO.

    ``Exception`` itself belongs to the server-error middleware, which also re-raises.
    """
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            return handlers[cls]
    return None
