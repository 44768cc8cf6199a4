"""The API key cache: valid and refused keys are both remembered for the cache period."""

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event

from api.auth import KeyCache
from consent.keys import Role, create_key
from consent.store.database import transaction
from tests.stores import migrated_engine


def test_valid_and_refused_keys_reach_the_store_once_per_period(tmp_path: Path) -> None:
    engine = migrated_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    with transaction(engine) as conn:
        key = create_key(conn, "crm", Role.CRM_SERVICE, datetime.now(UTC))
    lookups: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: lookups.append(args[2]))
    cache = KeyCache(engine, ttl=60)
    for presented in (key, key, "cg_0000_bad", "cg_0000_bad"):
        known, caller = cache.cached(presented)
        if not known:
            caller = cache.caller(presented)
        assert (caller is not None) == (presented == key)
    assert sum("api_keys" in sql for sql in lookups) == 2
    engine.dispose()
