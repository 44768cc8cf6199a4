"""Shared fixtures: the policy packs, keys, both stores, and factories for customers."""

import base64
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine

from api.app import create_app
from api.settings import Settings
from audit.entry import Actor
from consent.changes import (
    ConsentForm,
    ConsentRecord,
    NoticeRecord,
    record_consent,
    record_notice,
    set_preference,
)
from consent.crypto import KeyRing
from consent.customers import CustomerProfile, upsert_customer
from consent.gate import Gate, GateSettings
from consent.keys import Role, create_key
from consent.list_reading import ListFormat, read_entries
from consent.preferences import ChannelPreference, Limit
from consent.store.database import transaction
from consent.suppression import (
    DEFAULT_REGIONS,
    LISTA_ROBINSON,
    NATIONAL_DNC,
    LoadedList,
    drop_list,
    replace_list,
)
from policy.engine import PolicyEngine
from policy.periods import Period
from policy.vocabulary import ConsentStatus, PreferenceChannel, PreferenceStatus, Purpose
from tests.stores import (
    drop_postgres_schema,
    fresh_postgres_schema,
    migrated_engine,
    postgres_url,
    require_postgres,
)

POLICIES = Path(__file__).resolve().parents[1] / "policies"
MASTER_KEY = b"k" * 32
ACTOR = Actor(name="test-crm", role="crm_service")


@pytest.fixture(scope="session")
def policy() -> PolicyEngine:
    return PolicyEngine.load(POLICIES)


@pytest.fixture(scope="session")
def keyring() -> KeyRing:
    return KeyRing(MASTER_KEY)


@pytest.fixture(scope="session")
def master_key_b64() -> str:
    return base64.b64encode(MASTER_KEY).decode()


def _worker(request: pytest.FixtureRequest) -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('store') / 'consent.db'}"


@pytest.fixture(scope="session")
def postgres_schema(request: pytest.FixtureRequest) -> Iterator[str]:
    require_postgres()
    schema = fresh_postgres_schema(_worker(request))
    yield schema
    drop_postgres_schema(schema)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """Each store-backed test runs on both stores."""
    if request.param == "sqlite":
        return sqlite_url
    schema: str = request.getfixturevalue("postgres_schema")
    return postgres_url(schema)


@pytest.fixture(scope="session")
def engine(store_url: str) -> Iterator[Engine]:
    engine = migrated_engine(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite store of the test's own, for what only SQLite's one writer shows."""
    engine = migrated_engine(f"sqlite:///{tmp_path / 'own.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def gate(engine: Engine, policy: PolicyEngine, keyring: KeyRing) -> Iterator[Gate]:
    gate = Gate(engine, policy, keyring, GateSettings())
    yield gate
    gate.close()


@dataclass
class CustomerFactory:
    engine: Engine
    keyring: KeyRing

    def create(
        self,
        jurisdictions: tuple[str, ...] = ("ES",),
        *,
        time_zone: str | None = "Europe/Madrid",
        email: str | None = "ana@example.com",
        phone: str | None = "+34600000001",
        post: str | None = None,
        now: datetime | None = None,
    ) -> str:
        customer_id = f"C-{uuid.uuid4().hex[:12]}"
        points: dict[str, tuple[str, ...]] = {}
        if email:
            points["email"] = (email,)
        if phone:
            points["phone"] = (phone,)
        if post:
            points["post"] = (post,)
        profile = CustomerProfile(
            jurisdictions=frozenset(jurisdictions), time_zone=time_zone, contact_points=points
        )
        with transaction(self.engine) as conn:
            upsert_customer(
                conn, self.keyring, customer_id, profile, ACTOR, now or datetime.now(UTC)
            )
        return customer_id

    def prefer(
        self, customer_id: str, channel: str, now: datetime | None = None, **fields: Any
    ) -> None:
        pref = ChannelPreference(channel=PreferenceChannel(channel), **fields)
        with transaction(self.engine) as conn:
            set_preference(conn, customer_id, pref, ACTOR, now or datetime.now(UTC))

    def consent(
        self,
        customer_id: str,
        purpose: str,
        status: str = "granted",
        captured_at: datetime | None = None,
        expires_at: datetime | None = None,
        form: str | None = None,
    ) -> None:
        at = captured_at or datetime.now(UTC)
        record = ConsentRecord(
            Purpose(purpose),
            ConsentStatus(status),
            at,
            expires_at=expires_at,
            form=ConsentForm(form) if form else None,
        )
        with transaction(self.engine) as conn:
            record_consent(conn, self.keyring, customer_id, record, ACTOR, at)

    def notice(self, customer_id: str, kind: str, delivered_at: datetime) -> None:
        with transaction(self.engine) as conn:
            record_notice(
                conn, customer_id, NoticeRecord(kind, delivered_at, "mail"), ACTOR, delivered_at
            )

    def one_email_a_day(self, customer_id: str) -> None:
        """Opted in to email, at most one in any rolling day."""
        one = (Limit(1, Period.parse("P1D")),)
        self.prefer(customer_id, "email", status=PreferenceStatus.OPTED_IN, limits=one)

    def written_marketing(self, customer_id: str) -> None:
        """What a US autodialed marketing call or text needs: a signed written consent
        (TCPA 47 CFR 64.1200(a)(2)), given long before any send time in the tests."""
        self.consent(
            customer_id, "marketing", captured_at=datetime(2026, 1, 1, tzinfo=UTC), form="written"
        )

    def opted_in_marketing(self, customer_id: str, channel: str = "email") -> None:
        """What an EU marketing email needs: marketing consent and the channel opted in."""
        self.consent(customer_id, "marketing", captured_at=datetime(2026, 1, 1, tzinfo=UTC))
        self.prefer(customer_id, channel, status=PreferenceStatus.OPTED_IN)


@pytest.fixture
def customers(engine: Engine, keyring: KeyRing) -> CustomerFactory:
    return CustomerFactory(engine, keyring)


@dataclass
class SuppressionLists:
    """Loads and removes suppression lists. A list outlives the test (the store is the
    session's), so a test that depends on a list's state sets it itself."""

    engine: Engine
    keyring: KeyRing

    def load(
        self,
        name: str,
        source_date: date,
        *,
        phones: tuple[str, ...] = (),
        emails: tuple[str, ...] = (),
        listed_on: date | None = None,
    ) -> LoadedList:
        on = {"listed_on": listed_on.isoformat()} if listed_on else {}
        lines = [{"phone": phone, **on} for phone in phones]
        lines += [{"email": email, **on} for email in emails]
        body = [json.dumps(line).encode() + b"\n" for line in lines]
        read = read_entries(body, ListFormat.NDJSON, self.keyring, DEFAULT_REGIONS.get(name))
        assert read.rejected == 0, read.rejections
        try:
            return replace_list(
                self.engine, name, source_date, read, ACTOR, datetime.now(UTC),
                list_format=ListFormat.NDJSON, region=DEFAULT_REGIONS.get(name),
            )  # fmt: skip
        finally:
            read.close()

    def remove(self, name: str) -> None:
        drop_list(self.engine, name, ACTOR, datetime.now(UTC))


@pytest.fixture
def suppression(engine: Engine, keyring: KeyRing) -> SuppressionLists:
    return SuppressionLists(engine, keyring)


@pytest.fixture
def fresh_national_dnc(suppression: SuppressionLists) -> None:
    """An empty national do-not-call copy dated today: without one, every US phone and SMS
    marketing check is denied (47 CFR 64.1200(c)(2): the registry must be consulted)."""
    suppression.load(NATIONAL_DNC, datetime.now(UTC).date())


@pytest.fixture
def fresh_lista_robinson(suppression: SuppressionLists) -> None:
    """An empty Lista Robinson copy dated today: without one, marketing to a customer in
    Spain who has not consented is denied (LOPDGDD Art 23.4: consult it first)."""
    suppression.load(LISTA_ROBINSON, datetime.now(UTC).date())


@pytest.fixture(scope="session")
def settings(store_url: str, master_key_b64: str) -> Settings:
    return Settings(
        environment="test",
        database_url=store_url,
        master_key=SecretStr(master_key_b64),
        policies_dir=POLICIES,
        auth_cache_seconds=0.0,  # so a revoked key in a test is refused at once
        log_cache_loggers=False,  # so that capture_logs sees the module-level loggers
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture(scope="session")
def api_keys(engine: Engine) -> dict[str, str]:
    """One key per role, plus a customer key bound to customer ``C-self``."""
    now = datetime.now(UTC)
    with transaction(engine) as conn:
        keys = {
            str(role): create_key(conn, f"test-{role}", role, now)
            for role in Role
            if role is not Role.CUSTOMER
        }
        keys["customer"] = create_key(
            conn, "test-customer", Role.CUSTOMER, now, customer_id="C-self"
        )
    return keys


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def crm(api_keys: dict[str, str]) -> dict[str, str]:
    """The headers of a CRM service calling the gate."""
    return bearer(api_keys["crm_service"])


@pytest.fixture
def admin(api_keys: dict[str, str]) -> dict[str, str]:
    return bearer(api_keys["admin"])
