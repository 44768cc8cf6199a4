"""UTC instants as ISO 8601 text, written by orjson where it writes what the standard does.

A check writes about eight instants as text: in its answer, its audit entry and, on SQLite,
its row and its reservation read. ``datetime.isoformat`` and ``strftime`` go through C's
printf machinery and a ``utcoffset()`` call: ~7 % of the gate's instructions (callgrind).
orjson writes the same RFC 3339 text several times faster, for a plain ``datetime`` in UTC.
Anything else takes the standard library's way: another zone, a subclass (orjson refuses
those, freezegun's included) and, for the audit's form, a year before 1000.
"""

from datetime import UTC, datetime

import orjson

_UTC_Z = orjson.OPT_UTC_Z


def iso_z(at: datetime) -> str:
    """``isoformat()`` with "Z" for UTC: '2026-12-01T18:00:00Z', a fraction only if non-zero."""
    if at.tzinfo is UTC:
        text = _orjson_text(at)
        if text is not None:
            return text
    return at.isoformat().replace("+00:00", "Z")


def iso_z_micro(at: datetime) -> str:
    """The instant in UTC, always to the microsecond: '2026-12-01T18:00:00.000000Z'.

    The same text as ``strftime("%Y-%m-%dT%H:%M:%S.%fZ")``, which writes years before 1000
    without leading zeros: those keep that form, so that their hashes stay reproducible.
    """
    utc = at.astimezone(UTC)
    text = _orjson_text(utc) if utc.year >= 1000 else None
    if text is None:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return text if utc.microsecond else f"{text[:-1]}.000000Z"


def space_separated_micro(at: datetime) -> str:
    """'2026-12-01 18:00:00.000000' in UTC, as SQLAlchemy's DateTime stores it on SQLite."""
    utc = at.astimezone(UTC)
    text = _orjson_text(utc)
    if text is None:
        return utc.isoformat(" ", "microseconds")[:-6]  # without "+00:00"
    fraction = text[19:-1] if utc.microsecond else ".000000"
    return f"{text[:10]} {text[11:19]}{fraction}"


def _orjson_text(utc: datetime) -> str | None:
    """RFC 3339 with "Z" for a UTC ``datetime``; None for a subclass, which orjson refuses."""
    try:
        return orjson.dumps(utc, option=_UTC_Z).decode()[1:-1]
    except TypeError:
        return None
