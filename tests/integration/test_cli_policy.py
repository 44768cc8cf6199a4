"""`consent policy check | list | explain`, run as a person would, against a real store."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from api.cli import app
from policy.engine import PolicyEngine
from tests.conftest import POLICIES, CustomerFactory

runner = CliRunner()


def test_check_names_the_rules_and_the_version() -> None:
    result = runner.invoke(app, ["policy", "check", "--dir", str(POLICIES)])
    assert result.exit_code == 0, result.output
    assert f"{len(PolicyEngine.load(POLICIES).rules)} rules (" in result.output
    assert "TCPA" in result.output
    assert "version sha256:" in result.output
    assert "calendars (in the version): tzdata " in result.output


def test_check_of_a_broken_pack_fails_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text('[pack]\nname = "x"\ntitle = "x"\n\n[[rules]]\nid = 3\n')
    result = runner.invoke(app, ["policy", "check", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "broken.toml:5" in result.output


def test_list_shows_each_rule_with_its_citation() -> None:
    result = runner.invoke(app, ["policy", "list", "--dir", str(POLICIES)])
    assert result.exit_code == 0
    assert "glba.initial_notice.opt_out_window" in result.output
    assert "Directive 2002/58/EC Art 13(1); GDPR (EU) 2016/679 Art 8(1)" in result.output
    assert "glba.toml:" in result.output


@pytest.fixture
def store_env(engine: Engine, store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test store, migrated (``engine``): the CLI only reads it."""
    monkeypatch.setenv("CONSENT_DATABASE_URL", store_url)


@pytest.mark.usefixtures("store_env")
def test_explain_shows_which_rules_applied_to_a_real_customer_and_why(
    customers: CustomerFactory,
) -> None:
    customer_id = customers.create(("US-NY",), time_zone="America/New_York", phone="+12125550123")
    delivered = datetime(2026, 11, 1, tzinfo=UTC)
    customers.notice(customer_id, "glba_initial", delivered)
    at = (delivered + timedelta(days=10)).isoformat()
    args = ["policy", "explain", "--customer", customer_id, "--purpose", "share_third_parties",
            "--at", at, "--dir", str(POLICIES)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("DENY  glba.initial_notice.opt_out_window") for line in lines)
    assert any(line.startswith(" n/a  eprivacy.art13_1.e_marketing_consent") for line in lines)
    assert lines[-1] == "law: deny (1 rule(s) against)"


@pytest.mark.usefixtures("store_env")
def test_explain_says_which_rules_the_invoked_exception_lifts(customers: CustomerFactory) -> None:
    customer_id = customers.create(("US-NY",), time_zone="America/New_York", phone="+12125550125")
    delivered = datetime(2026, 11, 1, tzinfo=UTC)
    customers.notice(customer_id, "glba_initial", delivered)
    at = (delivered + timedelta(days=10)).isoformat()
    args = ["policy", "explain", "--customer", customer_id, "--purpose", "share_third_parties",
            "--at", at, "--exception", "service_provider", "--data-category", "account_number",
            "--dir", str(POLICIES)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "data use for share_third_parties under service_provider" in lines[0]
    window = " n/a  glba.initial_notice.opt_out_window  not applied: the caller invoked exception"
    assert f"{window} service_provider" in lines
    assert any(line.startswith("  ok  glba.service_providers.initial_notice") for line in lines)
    assert any(line.startswith("DENY  glba.account_numbers") for line in lines)
    assert lines[-1] == "law: deny (1 rule(s) against)"


@pytest.mark.usefixtures("store_env")
def test_explain_says_when_no_pack_covers_the_customer_s_place(
    customers: CustomerFactory,
) -> None:
    """It said "law: allow" for a customer in a place no pack covers, as the gate allowed."""
    customer_id = customers.create(("CH",), time_zone="Europe/Zurich", phone=None)
    args = ["policy", "explain", "--customer", customer_id, "--purpose", "marketing",
            "--channel", "email", "--dir", str(POLICIES)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].startswith("DENY  policy.jurisdiction_not_covered  No policy pack covers")
    assert lines[-1] == "law: deny (1 rule(s) against)"


@pytest.mark.usefixtures("store_env")
def test_explain_of_an_unknown_customer_fails_clearly() -> None:
    args = ["policy", "explain", "--customer", "nobody", "--purpose", "marketing"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "no customer nobody" in result.output


@pytest.mark.usefixtures("store_env")
@pytest.mark.parametrize("at", ["9999-12-31T23:59:59", "1899-12-31T23:59:59"])
def test_explain_at_an_instant_outside_the_span_is_a_usage_error(
    customers: CustomerFactory, at: str
) -> None:
    customer_id = customers.create(("US-TX",), phone="+12145550123")
    args = ["policy", "explain", "--customer", customer_id, "--purpose", "marketing",
            "--channel", "phone", "--at", at]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "1900-01-01" in result.output
    assert "Traceback" not in result.output


@pytest.mark.usefixtures("store_env", "fresh_national_dnc")
def test_explain_judges_an_automated_call_unless_told_it_is_manual(
    customers: CustomerFactory,
) -> None:
    customer_id = customers.create(("US-NY",), time_zone="America/New_York", phone="+12125550124")
    customers.consent(customer_id, "marketing", captured_at=datetime(2026, 1, 1, tzinfo=UTC))
    noon = datetime.now(UTC).replace(hour=17, minute=0, second=0, microsecond=0).isoformat()
    args = ["policy", "explain", "--customer", customer_id, "--purpose", "marketing",
            "--channel", "phone", "--at", noon, "--dir", str(POLICIES)]  # fmt: skip

    automated = runner.invoke(app, args).output.splitlines()
    manual = runner.invoke(app, [*args, "--manual"]).output.splitlines()

    assert "phone (automated) for marketing" in automated[0]
    assert any(line.startswith("DENY  tcpa.written_consent") for line in automated)
    assert "phone (manual) for marketing" in manual[0]
    assert any(line.startswith("  ok  tcpa.written_consent") for line in manual)
    assert manual[-1] == "law: allow (0 rule(s) against)"
