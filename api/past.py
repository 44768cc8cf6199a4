"""Times a request says something happened at: never after now.

A consent "captured" an hour ahead became the customer's current one, and a withdrawal
recorded after it, captured earlier, was kept only as history (a late back-fill): a
marketing send two hours out was then allowed. A last purchase dated ahead would stretch
the TCPA's established business relationship the same way. So each such instant must lie
at or before the server's now, and each such date on or before the first calendar day
anywhere (UTC+14).
"""

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from fastapi.exceptions import RequestValidationError

_EARLIEST_ZONE_AHEAD = timedelta(hours=14)  # Kiribati's Line Islands: the day starts there


def reject_future(
    now: datetime, given: Mapping[tuple[str, ...], datetime | date | None], hint: str = ""
) -> None:
    """A 422 naming every given field that lies after ``now``; ``hint`` follows the message."""
    message = "must not be in the future" + (f"; {hint}" if hint else "")
    errors = [
        {"type": "value_error", "loc": loc, "msg": message, "input": value.isoformat()}
        for loc, value in given.items()
        if value is not None and _after(value, now)
    ]
    if errors:
        raise RequestValidationError(errors)


def _after(value: datetime | date, now: datetime) -> bool:
    if isinstance(value, datetime):
        return value > now
    return value > (now + _EARLIEST_ZONE_AHEAD).date()
