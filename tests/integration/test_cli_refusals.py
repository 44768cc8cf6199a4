"""The commands refuse bad settings and an unreachable store in one line, repeating no
secret: a mistyped master key or a URL's password would reach the terminal and the
service manager's log (they used to, in pydantic's message or a 400-line traceback)."""

import base64
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()
PASSWORD = "s3cret-pw"
# A URL-safe base64 key: the characters "-" and "_" are not standard base64.
URL_SAFE_KEY = base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode()


def _refusal(args: list[str], monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, str]:
    monkeypatch.setenv("CONSENT_ENVIRONMENT", "development")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(app, args)
    return result.exit_code, result.output


@pytest.mark.parametrize("command", [["migrate"], ["keys", "list"]])
def test_a_master_key_that_is_not_base64_is_refused_without_repeating_it(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "-" in URL_SAFE_KEY
    code, output = _refusal(command, monkeypatch, CONSENT_MASTER_KEY=URL_SAFE_KEY)
    assert code == 2
    assert "CONSENT_MASTER_KEY must be base64" in output
    assert URL_SAFE_KEY not in output
    assert len(output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "url",
    [f"mysql://ops:{PASSWORD}@db.internal/consent", "postgresql://ops@db/consent", "nonsense"],
)
def test_a_store_this_release_cannot_run_on_is_refused(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = _refusal(["migrate"], monkeypatch, CONSENT_DATABASE_URL=url)
    assert code == 2
    assert "CONSENT_DATABASE_URL" in output
    assert PASSWORD not in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    "command",
    [["migrate"], ["keys", "list"], ["keys", "create", "--role", "admin"]],
)
def test_an_unreachable_postgresql_is_one_line_without_its_password(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"postgresql+psycopg://ops:{PASSWORD}@127.0.0.1:1/consent"  # nothing listens on 1
    code, output = _refusal(command, monkeypatch, CONSENT_DATABASE_URL=url)
    assert code == 1
    assert output.startswith("consent: cannot open the store at postgresql+psycopg://ops:***@")
    assert PASSWORD not in output
    assert len(output.strip().splitlines()) == 1


def test_a_sqlite_file_that_cannot_be_created_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/no/such/directory/consent.db"
    code, output = _refusal(["migrate"], monkeypatch, CONSENT_DATABASE_URL=url)
    assert code == 1
    assert output.strip() == (
        f"consent: cannot open the store at {url}: unable to open database file"
    )


def test_explain_against_an_unreachable_store_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"postgresql+psycopg://ops:{PASSWORD}@127.0.0.1:1/consent"
    args = ["policy", "explain", "--customer", "C-1", "--purpose", "marketing"]
    code, output = _refusal(args, monkeypatch, CONSENT_DATABASE_URL=url)
    assert code == 1
    assert output.strip() == "consent: the consent store is unavailable"
