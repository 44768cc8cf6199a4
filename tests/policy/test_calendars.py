"""Time zones and holidays come from the packages the project installs, and their versions
are part of the policy version: the same check is decided the same on every host."""

import importlib.resources
import shutil
import zoneinfo
from datetime import UTC, datetime
from pathlib import Path

import pytest

from policy import calendars
from policy.engine import PolicyEngine
from policy.vocabulary import Channel, Purpose
from tests.conftest import POLICIES
from tests.policy.factories import granted, make_facts


def test_zones_are_read_from_the_tzdata_package_not_the_host() -> None:
    # Importing the policy package emptied the search path: zoneinfo falls back to tzdata.
    assert zoneinfo.TZPATH == ()
    packaged = importlib.resources.files("tzdata").joinpath("zoneinfo", "America", "Chicago")
    assert packaged.is_file()
    assert zoneinfo.ZoneInfo("America/Chicago").key == "America/Chicago"


def test_zones_read_before_are_read_again_from_the_package() -> None:
    zoneinfo.reset_tzpath(to=["/usr/share/zoneinfo"])  # as a host's Python starts
    try:
        earlier = zoneinfo.ZoneInfo("Europe/Madrid")
        calendars.use_packaged_time_zones()
        assert zoneinfo.TZPATH == ()
        assert zoneinfo.ZoneInfo("Europe/Madrid") is not earlier  # the cache was emptied
    finally:
        calendars.use_packaged_time_zones()


def test_the_version_names_each_calendar_package() -> None:
    assert set(calendars.calendar_versions()) == {"tzdata", "holidays"}


def test_the_version_changes_with_a_calendar_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, policy: PolicyEngine
) -> None:
    shutil.copytree(POLICIES, tmp_path, dirs_exist_ok=True)
    assert PolicyEngine.load(tmp_path).version == policy.version
    older = {**calendars.calendar_versions(), "holidays": "0.50"}
    monkeypatch.setattr("policy.engine.calendar_versions", lambda: older)
    assert PolicyEngine.load(tmp_path).version != policy.version


def test_british_columbia_keeps_utc_minus_7_from_november_2026(policy: PolicyEngine) -> None:
    # tzdata 2026b; the host's 2025b read 09:30 here, before the CRTC's Saturday 10:00, and
    # denied a call the law allows (and allowed one at 18:30 as 17:30).
    saturday_morning = datetime(2026, 12, 5, 17, 30, tzinfo=UTC)
    vancouver = saturday_morning.astimezone(zoneinfo.ZoneInfo("America/Vancouver"))
    assert f"{vancouver:%H:%M}" == "10:30"
    facts = make_facts(
        jurisdictions={"CA-BC"},
        channel=Channel.PHONE,
        send_at=saturday_morning,
        time_zones=("America/Vancouver",),
        automated=False,
        consents={Purpose.MARKETING: granted()},
    )
    assert "crtc.calling_hours" not in [reason.rule for reason in policy.evaluate(facts)]
