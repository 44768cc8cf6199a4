"""Parameters and answers of the suppression-list endpoints (the list itself is CSV or NDJSON)."""

from datetime import date, datetime
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from policy.kinds.lists import LIST_NAME_PATTERN

ListName = Annotated[str, StringConstraints(pattern=LIST_NAME_PATTERN)]


def _region(code: str) -> str:
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"{code!r} is not a region phone numbers can be read in (e.g. US, ES)")
    return code


Region = Annotated[str, StringConstraints(max_length=3), AfterValidator(_region)]


class RejectedLine(BaseModel):
    line: int = Field(description="1-based line number in the body")
    reason: str = Field(description="Why it was not loaded; the line itself is never echoed")


class ListLoaded(BaseModel):
    list: str
    source_date: date
    entry_count: int = Field(description="Distinct identifiers now on the list")
    entries_read: int = Field(description="Identifiers read from the body, repeats included")
    content_hash: str = Field(description="SHA-256 over the list's entry hashes in hash order")
    loaded_at: datetime
    rejected_count: int
    rejected: list[RejectedLine] = Field(
        description="The lines not loaded and why (the first 1000; rejected_count has all)"
    )
    audit_entry_id: int


class ListOut(BaseModel):
    list: str
    source_date: date
    entry_count: int
    content_hash: str
    loaded_at: datetime
    loaded_by: str
    max_age: str | None = Field(
        description="How old a copy the law accepts (the strictest rule consulting the list)"
    )
    stale_from: datetime | None = Field(description="From when the copy is too old to use")
    stale: bool = Field(description="Too old now: contacts it guards are denied until reloaded")


class ListRemoved(BaseModel):
    audit_entry_id: int
