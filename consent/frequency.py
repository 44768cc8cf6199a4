"""The customer's own rolling frequency limits, counted as the law's are (policy.windows)."""

from collections.abc import Sequence
from datetime import datetime

from consent.preferences import Limit
from policy import windows


def exceeds(limit: Limit, existing: Sequence[datetime], at: datetime) -> bool:
    """Would one more contact at ``at`` put some window over the limit?"""
    return windows.exceeds(limit.count, limit.period, existing, at)


def next_free_slot(limit: Limit, existing: Sequence[datetime], at: datetime) -> datetime | None:
    """The first instant after ``at`` at which one more contact fits, if any does."""
    return windows.next_free_slot(limit.count, limit.period, existing, at)
