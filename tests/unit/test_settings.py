"""Settings: the development defaults work, and production refuses them."""

import base64

import pytest

from api.settings import DEVELOPMENT_MASTER_KEY, InsecureSettingsError, Settings


def test_development_defaults_start_with_no_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONSENT_MASTER_KEY", "CONSENT_ENVIRONMENT", "CONSENT_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    settings.refuse_insecure_defaults()
    assert settings.database_url == "sqlite:///./consent.db"
    assert len(settings.master_key_bytes) >= 32


def test_production_refuses_the_development_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSENT_MASTER_KEY", raising=False)
    monkeypatch.setenv("CONSENT_ENVIRONMENT", "production")
    with pytest.raises(InsecureSettingsError, match="CONSENT_MASTER_KEY"):
        Settings().refuse_insecure_defaults()


def test_production_accepts_a_key_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENT_ENVIRONMENT", "production")
    monkeypatch.setenv("CONSENT_MASTER_KEY", base64.b64encode(b"x" * 32).decode())
    Settings().refuse_insecure_defaults()
    assert Settings().master_key.get_secret_value() != DEVELOPMENT_MASTER_KEY


def test_short_master_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENT_MASTER_KEY", base64.b64encode(b"x" * 16).decode())
    with pytest.raises(ValueError, match="32 bytes"):
        Settings()
