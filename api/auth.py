"""Who is calling (API key) and whether their role may call this endpoint (casbin).

Both answers are memoised: a key is checked against the store at most once per cache
period, and casbin is asked once per (role, route, method) for the life of the process, so
neither sits on the per-contact path.
"""

import threading
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import casbin
from sqlalchemy import Engine

from api.errors import ApiProblem
from consent.keys import Caller, Role, authenticate
from consent.store.database import transaction


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

    def cached(self, presented: str) -> tuple[bool, Caller | None]:
        """(known, caller): ``known`` is False when the store has to be asked."""
        hit = self._entries.get(presented)
        if hit is None or hit[0] <= time.monotonic():
            return False, None
        return True, hit[1]

    def caller(self, presented: str) -> Caller | None:
        """Verify against the store (blocking) and remember the answer."""
        now = time.monotonic()
        with transaction(self._engine) as conn:
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
