"""The base of every request body: unknown fields are an error, not silently dropped."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator

from policy.instants import supported


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    return False


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: object) -> object:
        """PostgreSQL text cannot hold NUL, and no name, id or address needs one."""
        if _has_nul(value):
            raise ValueError("must not contain NUL (U+0000) characters")
        return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a UTC offset, e.g. 2026-11-26T10:00:00Z")
    return supported(value)


# Times must say which instant they mean; a naive local time is ambiguous across zones and DST.
# They must also lie where the engine can shift them by its periods (policy/instants.py).
Instant = Annotated[datetime, AfterValidator(_aware)]
