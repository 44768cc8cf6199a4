"""`consent keys create | list | revoke`, run as an operator would, against a real store."""

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from api.cli import app
from audit.schema import audit_entries
from consent.keys import authenticate
from consent.store.database import transaction

runner = CliRunner()


@pytest.fixture(autouse=True)
def store_env(engine: Engine, store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENT_DATABASE_URL", store_url)
    monkeypatch.setenv("CONSENT_ENVIRONMENT", "development")


def _create(role: str, name: str, *extra: str) -> str:
    result = runner.invoke(app, ["keys", "create", "--role", role, "--name", name, *extra])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def _key_id(key: str) -> str:
    return key.split("_")[1]


def _audited(engine: Engine, key_id: str) -> list[tuple[str, str, str]]:
    """(action, actor role, actor name) of the entries about one key, oldest first."""
    with transaction(engine) as conn:
        rows = conn.execute(
            select(audit_entries.c.action, audit_entries.c.actor_role, audit_entries.c.actor_name)
            .where(audit_entries.c.subject == f"api_key:{key_id}")
            .order_by(audit_entries.c.seq)
        )
        return [tuple(row) for row in rows]


def test_list_shows_each_key_without_its_secret(engine: Engine) -> None:
    dialer = _create("crm_service", "dialer-list")
    portal = _create("customer", "portal-list", "--customer", "C-list-1")
    result = runner.invoke(app, ["keys", "list"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()[1:]}
    assert "crm_service" in lines[_key_id(dialer)]
    assert lines[_key_id(dialer)].endswith("dialer-list")
    assert lines[_key_id(portal)].endswith("portal-list (customer C-list-1)")
    for key in (dialer, portal):
        assert key.split("_", 2)[2] not in result.output  # the secret never shows again


def test_a_revoked_key_no_longer_authenticates_and_the_revocation_is_audited(
    engine: Engine,
) -> None:
    key = _create("crm_service", "leaked")
    with transaction(engine) as conn:
        assert authenticate(conn, key) is not None

    result = runner.invoke(app, ["keys", "revoke", _key_id(key)])
    assert result.exit_code == 0, result.output
    assert f"revoked key {_key_id(key)} (leaked, crm_service)" in result.output

    with transaction(engine) as conn:
        assert authenticate(conn, key) is None
    listed = runner.invoke(app, ["keys", "list"]).output
    line = next(line for line in listed.splitlines() if line.startswith(_key_id(key)))
    assert line.split()[3].endswith("Z")  # the revocation's time, where "-" stood
    actions = _audited(engine, _key_id(key))
    assert [action for action, _, _ in actions] == ["api_key.created", "api_key.revoked"]
    assert all(role == "admin" and name.startswith("cli:") for _, role, name in actions)


def test_revoking_twice_changes_nothing_and_takes_the_whole_key_too(engine: Engine) -> None:
    key = _create("admin", "twice")
    assert runner.invoke(app, ["keys", "revoke", key]).exit_code == 0  # the whole key
    again = runner.invoke(app, ["keys", "revoke", _key_id(key)])
    assert again.exit_code == 0
    assert "already revoked" in again.output
    assert [action for action, _, _ in _audited(engine, _key_id(key))] == [
        "api_key.created",
        "api_key.revoked",
    ]


def test_revoking_an_unknown_key_fails_clearly() -> None:
    result = runner.invoke(app, ["keys", "revoke", "0000000000000000"])
    assert result.exit_code == 1
    assert "no API key 0000000000000000" in result.output


def test_only_a_customer_key_takes_a_customer() -> None:
    """--customer on another role was stored and ignored: the key reached every customer."""
    result = runner.invoke(
        app, ["keys", "create", "--role", "crm_service", "--name", "x", "--customer", "C-1"]
    )
    assert result.exit_code == 2
    assert "only a customer key is bound to a customer" in result.output
    assert "cg_" not in result.output  # no key was made
