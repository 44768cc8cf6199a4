"""The bench's customers, written through the domain layer rather than over HTTP.

``PERFORMANCE.md`` measures with 100k customers and a random one a request: more than the
gate's memo of decoded states holds (16,384), so that most checks read a customer's state
afresh, as a campaign over a real customer base does. Over HTTP a customer took three
requests (~80 customers a second here, 25 s for 2,000); here the same domain functions the
API calls write them in transactions of ``BATCH`` customers, about 350 a second on SQLite
and, from two processes, about 400 on PostgreSQL.
"""

import base64
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from functools import cache, partial

from sqlalchemy import Engine

from audit.entry import Actor
from consent.changes import ConsentForm, ConsentRecord, record_consent, set_preference
from consent.crypto import KeyRing
from consent.customers import CustomerProfile, upsert_customer
from consent.preferences import ChannelPreference, Limit
from consent.store.database import make_engine, transaction
from consent.store.migrate import migrate
from policy.periods import Period
from policy.vocabulary import ConsentStatus, PreferenceChannel, PreferenceStatus, Purpose

BATCH = 500  # customers a transaction
PER_EXCHANGE = 10_000
REGISTRY_EXCHANGE = 556  # +1214556XXXX: the do-not-call copy's numbers, none a customer's
MAX_CUSTOMERS = 100_000  # ten exchanges of Dallas numbers (555, 557-565)
DAILY_LIMIT = 100_000  # the most the service accepts; far above any count reached here
SEEDED_BY = Actor(name="bench-seed", role="admin")
# The dialer's calls count as automated, so TCPA 47 CFR 64.1200(a)(2) asks for written consent.
WRITTEN_CONSENT = ConsentRecord(
    purpose=Purpose.MARKETING,
    status=ConsentStatus.GRANTED,
    captured_at=datetime(2026, 1, 1, tzinfo=UTC),
    form=ConsentForm.WRITTEN,
)
OPTED_IN_PHONE = ChannelPreference(
    channel=PreferenceChannel.PHONE,
    status=PreferenceStatus.OPTED_IN,
    limits=(Limit(DAILY_LIMIT, Period.parse("P1D")),),
)


def phone_number(index: int) -> str:
    """The ``index``-th customer's number: +1214555XXXX for the first 10,000, as before."""
    block, line = divmod(index, PER_EXCHANGE)
    if not 0 <= block < MAX_CUSTOMERS // PER_EXCHANGE:
        raise ValueError(f"at most {MAX_CUSTOMERS} bench customers")
    exchange = 555 if block == 0 else REGISTRY_EXCHANGE + block
    return f"+1214{exchange}{line:04d}"


def seed(database_url: str, master_key: str, ids: list[str], processes: int = 1) -> None:
    """Every customer (US-TX, one phone) with written marketing consent and an opted-in
    phone with a generous daily limit, encrypted under ``master_key`` (base64) as the
    server that will read them is configured. Migrates an empty database first."""
    numbered = list(enumerate(ids))
    chunks = [numbered[start : start + BATCH] for start in range(0, len(numbered), BATCH)]
    engine = make_engine(database_url)
    try:
        migrate(engine)
        if processes == 1:
            keyring = KeyRing(base64.b64decode(master_key))
            for chunk in chunks:
                _write(engine, keyring, chunk)
            return
        # Spawned, not forked: a forked child would inherit, and on exit close, this
        # process's pooled connections.
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(processes, mp_context=spawn) as pool:
            list(pool.map(partial(_write_in_worker, database_url, master_key), chunks))
    finally:
        engine.dispose()  # SQLite: the last connection closed checkpoints the file whole


def _write(engine: Engine, keyring: KeyRing, chunk: list[tuple[int, str]]) -> None:
    now = datetime.now(UTC)
    with transaction(engine) as conn:
        for index, customer_id in chunk:
            profile = CustomerProfile(
                jurisdictions=frozenset({"US-TX"}),
                contact_points={"phone": (phone_number(index),)},
            )
            upsert_customer(conn, keyring, customer_id, profile, SEEDED_BY, now)
            record_consent(conn, keyring, customer_id, WRITTEN_CONSENT, SEEDED_BY, now)
            set_preference(conn, customer_id, OPTED_IN_PHONE, SEEDED_BY, now)


def _write_in_worker(database_url: str, master_key: str, chunk: list[tuple[int, str]]) -> None:
    _write(_worker_engine(database_url), KeyRing(base64.b64decode(master_key)), chunk)


@cache
def _worker_engine(database_url: str) -> Engine:
    """One engine a worker process: it writes many chunks."""
    return make_engine(database_url)
