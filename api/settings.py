"""All settings, from the environment (prefix ``CONSENT_``). Nothing else reads it."""

import base64
import sys
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# Only for development: anyone can read it here, so outside development it refuses to start.
DEVELOPMENT_MASTER_KEY = base64.b64encode(b"consent-gate development key, 32").decode()


def _default_policies_dir() -> Path:
    """The source tree's ``policies/``, else the copy a wheel installs under the prefix."""
    source = Path(__file__).resolve().parents[1] / "policies"
    return source if source.is_dir() else Path(sys.prefix) / "share" / "consent-gate" / "policies"


_STORE_DRIVERS = frozenset({"sqlite", "sqlite+pysqlite", "postgresql+psycopg"})


class InsecureSettingsError(RuntimeError):
    pass


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENT_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./consent.db"
    master_key: SecretStr = SecretStr(DEVELOPMENT_MASTER_KEY)  # base64, >= 32 bytes
    policies_dir: Path = _default_policies_dir()
    event_trigger_validity: timedelta = timedelta(hours=1)
    check_validity: timedelta = timedelta(hours=24)
    auth_cache_seconds: float = 30.0  # a revoked key stops working within this time
    # PostgreSQL connections per worker process: this many for the gate's async pool, and
    # this many (plus as many again at peaks) for everything else. Workers x 3 x this must
    # stay under the server's max_connections (100 by default).
    db_pool_size: int = 8
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_cache_loggers: bool = True  # tests turn it off so that capture_logs sees every logger
    # FastAPI's native OpenTelemetry spans, metrics and logs, through the global providers
    # the deployment configures. Off unless asked for: looking for providers alone costs
    # ~40 us a request, a tenth of a check.
    opentelemetry: bool = False
    # The largest request body read (413 past it). A check is under 1 KiB and a customer's
    # profile a few; suppression-list copies are streamed and not limited.
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    # A request's line and headers must arrive within this many seconds of the connection opening,
    # or of their first byte on a kept-alive one (408 past it); a body may pause this long
    # between reads. uvicorn had neither: a client sending a byte a minute held its
    # connection, and a file descriptor, for ever. As Apache's header and nginx's body timeout.
    head_timeout_seconds: float = Field(default=20.0, gt=0)
    body_idle_timeout_seconds: float = Field(default=60.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _supported_store(cls, value: str) -> str:
        """One of the two stores this release runs on, with the driver it installs."""
        try:
            driver = make_url(value).drivername
        except ArgumentError as exc:
            raise ValueError("CONSENT_DATABASE_URL is not a database URL") from exc
        if driver not in _STORE_DRIVERS:
            raise ValueError(
                "CONSENT_DATABASE_URL must be sqlite:///PATH or "
                "postgresql+psycopg://USER@HOST/DATABASE"
            )
        return value

    @field_validator("master_key")
    @classmethod
    def _decodes(cls, value: SecretStr) -> SecretStr:
        try:
            raw = base64.b64decode(value.get_secret_value(), validate=True)
        except ValueError as exc:
            raise ValueError("CONSENT_MASTER_KEY must be base64") from exc
        if len(raw) < 32:
            raise ValueError("CONSENT_MASTER_KEY must decode to at least 32 bytes")
        return value

    @cached_property
    def master_key_bytes(self) -> bytes:
        return base64.b64decode(self.master_key.get_secret_value())

    def refuse_insecure_defaults(self) -> None:
        if self.environment != "development" and (
            self.master_key.get_secret_value() == DEVELOPMENT_MASTER_KEY
        ):
            raise InsecureSettingsError(
                f"CONSENT_MASTER_KEY is the published development key; set a secret of your own "
                f"before running in {self.environment}"
            )
