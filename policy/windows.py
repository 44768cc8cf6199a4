"""Rolling windows: at most N contacts in any window of length P.

A new contact at ``t`` may share a window with earlier and with scheduled later contacts,
so the count is taken over every window of length P that contains ``t``, not only the one
ending at ``t``. The customer's own frequency limits and the law's (3 calls per 24 hours in
Florida) are both counted this way.
"""

from bisect import bisect_left
from collections.abc import Sequence
from datetime import datetime

from policy.periods import Period


def _busiest_window(period: Period, existing: Sequence[datetime], at: datetime) -> int:
    """The most existing contacts in one window [a, a + P) that also holds ``at``."""
    horizon = period.add_to(at)
    if period.is_exact:  # one subtraction, not an addition per contact (dozens a check)
        start = period.subtract_from(at)
        before = sorted(x for x in existing if start < x <= at)
    else:
        # "x + P > at" rather than "x > at - P": calendar months do not invert (Jan 31 + P1M
        # is Feb 28, but Feb 28 - P1M is Jan 28), and the slot frees when x + P is reached.
        before = sorted(x for x in existing if x <= at < period.add_to(x))
    after = sorted(x for x in existing if at < x < horizon)
    if not after:  # the usual case, nothing scheduled later: the window ending at ``at``
        return len(before)
    window = before + after
    best = 0
    for i, start in enumerate([*before, at]):
        first = i if i < len(before) else len(before)
        best = max(best, bisect_left(window, period.add_to(start)) - first)
    return best


def exceeds(count: int, period: Period, existing: Sequence[datetime], at: datetime) -> bool:
    """Would one more contact at ``at`` put some window over ``count``?"""
    return _busiest_window(period, existing, at) >= count


def next_free_slot(
    count: int, period: Period, existing: Sequence[datetime], at: datetime
) -> datetime | None:
    """The first instant after ``at`` at which one more contact fits, if any does."""
    candidates = sorted({period.add_to(x) for x in existing if period.add_to(x) > at})
    for candidate in candidates:
        if not exceeds(count, period, existing, candidate):
            return candidate
    return None
