"""Who is calling (API key) and whether their role may call this endpoint (casbin).

Both answers are memoised: a key is checked against the store at most once per cache
period, and casbin is asked once per (role, route, method) for the life of the process, so
neither sits on the per-contact path.
"""

import asyncio
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import casbin
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api.errors import ApiProblem
from consent.keys import Caller, Role, authenticate
from consent.store.database import read_transaction


class KeyCache:
    """Presented key -> caller (or None for a refused key), for ``ttl`` seconds.

    Refusals are remembered too, so that a flood of bad keys does not reach the store; that
    is safe because a key that was refused never becomes valid (a new key has a new secret,
    and a revoked one stays revoked).
    """

    def __init__(self, engine: Engine, ttl: float, max_entries: int = 10_000) -> None:
        self._engine = engine
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[str, tuple[float, Caller | None]] = {}
        self._lock = threading.Lock()
        self._pending: dict[str, asyncio.Task[Caller | None]] = {}

    def cached(self, presented: str) -> tuple[bool, Caller | None]:
        """(known, caller): ``known`` is False when the store has to be asked."""
        hit = self._entries.get(presented)
        if hit is None or hit[0] <= time.monotonic():
            return False, None
        return True, hit[1]

    async def look_up(self, presented: str) -> Caller | None:
        """``caller`` in the thread pool, once for all the requests that miss together.

        When a key's entry expires every request in flight with that key misses at once
        (64 on the bench): each asked the store in a thread of its own, and the checks
        behind them waited for seconds.
        """
        loop = asyncio.get_running_loop()
        pending = self._pending.get(presented)
        if pending is None or pending.get_loop() is not loop:
            pending = loop.create_task(run_in_threadpool(self.caller, presented))
            self._pending[presented] = pending
            pending.add_done_callback(lambda done: self._forget(presented, done))
        return await asyncio.shield(pending)

    def _forget(self, presented: str, done: "asyncio.Task[Caller | None]") -> None:
        if self._pending.get(presented) is done:
            del self._pending[presented]

    def caller(self, presented: str) -> Caller | None:
        """Verify against the store (blocking) and remember the answer."""
        now = time.monotonic()
        with read_transaction(self._engine) as conn:
            caller = authenticate(conn, presented)
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[presented] = (now + self._ttl, caller)
        return caller


def load_enforcer(policies_dir: Path) -> Callable[[str, str, str], bool]:
    enforcer = casbin.Enforcer(
        str(policies_dir / "rbac_model.conf"), str(policies_dir / "rbac_policy.csv")
    )

    @lru_cache(maxsize=1024)
    def allowed(role: str, route: str, method: str) -> bool:
        return bool(enforcer.enforce(role, route, method))

    return allowed


def bearer_token(header: str | None) -> str:
    if not header:
        raise ApiProblem(
            401, "unauthenticated", "Unauthenticated", "send Authorization: Bearer <api key>"
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiProblem(401, "unauthenticated", "Unauthenticated", "use the Bearer scheme")
    return token.strip()


def authorise(
    caller: Caller,
    allowed: Callable[[str, str, str], bool],
    route: str,
    method: str,
    customer_id: str | None,
) -> None:
    if not allowed(str(caller.role), route, method):
        raise ApiProblem(
            403, "forbidden", "Forbidden", f"role {caller.role} may not {method} {route}"
        )
    if (
        caller.role is Role.CUSTOMER
        and customer_id is not None
        and customer_id != caller.customer_id
    ):
        raise ApiProblem(
            403, "forbidden", "Forbidden", "a customer key may act on its own record only"
        )
