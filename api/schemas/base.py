"""The base of every request body: unknown fields are an error, not silently dropped."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a UTC offset, e.g. 2026-11-26T10:00:00Z")
    return value.astimezone(UTC)


# Times must say which instant they mean; a naive local time is ambiguous across zones and DST.
Instant = Annotated[datetime, AfterValidator(_aware)]
