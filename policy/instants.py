"""The span of instants the engine decides about.

Deciding shifts an instant both ways: back and forth by a period of up to 100 years (a
lookback, and the windows of a rolling limit: ``periods.py``, ``windows.py``), by a local
day (``local_days.py``), a notice period or an answer's ``valid_until``.

Python's calendar ends at the years 1 and 9999, so a ``send_at`` near either end (a typo,
or a placeholder such as 9999-12-31) made those shifts overflow, and the caller got a 500
instead of a clear error. No contact, consent or notice a CRM records lies outside
1900-2999, and every shift from inside that span stays on the calendar.
"""

from datetime import UTC, datetime

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
END = datetime(3000, 1, 1, tzinfo=UTC)  # the first instant past the span


class InstantOutOfRangeError(ValueError):
    """An instant outside ``EARLIEST`` .. ``END``."""


def supported(at: datetime) -> datetime:
    """``at`` (aware) in UTC, or ``InstantOutOfRangeError`` saying the span."""
    try:
        utc = at.astimezone(UTC)  # overflows for year 1 or 9999 with an offset
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < END:
        raise InstantOutOfRangeError(
            f"must be from {EARLIEST:%Y-%m-%d} up to (not including) {END:%Y-%m-%d}, UTC"
        )
    return utc
