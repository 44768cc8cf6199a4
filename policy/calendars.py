"""The calendars the law is judged by, time zones and public holidays, from the packages the
project installs (``tzdata``, ``holidays``), never from the operating system's copy.

``zoneinfo`` reads the system's tz database before the ``tzdata`` package, and a host's copy
may be years behind: this machine's was 2025b beside the package's 2026f, and the engine's
own list of each country's zones already came from the package. The same check on two hosts
could be decided on two sets of DST rules. Their versions are part of the policy version,
so that a decision names every input of the law it applied.
"""

import importlib.metadata
import zoneinfo

PACKAGES = ("tzdata", "holidays")


def use_packaged_time_zones() -> None:
    """Read zones from ``tzdata`` only; zones already read are read again from it."""
    zoneinfo.reset_tzpath(to=())
    zoneinfo.ZoneInfo.clear_cache()


def calendar_versions() -> dict[str, str]:
    """The installed version of each calendar package, by name."""
    return {name: importlib.metadata.version(name) for name in PACKAGES}
