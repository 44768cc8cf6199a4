"""Bodies of the customer, preference, consent and notice endpoints."""

from datetime import date, datetime, time
from functools import cache
from importlib import resources
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from api.schemas.base import Body, Instant, IsoDate, LocalTime
from consent.changes import ConsentForm
from consent.preferences import WEEKDAYS
from policy.jurisdictions import is_valid_code
from policy.periods import Period
from policy.vocabulary import Channel, ConsentStatus, Direction, PreferenceStatus, Purpose

CustomerId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$")
]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=128)]


def _jurisdiction(code: str) -> str:
    if not is_valid_code(code, allow_groups=True):  # "EU" and "EEA" may be given as places
        raise ValueError(f"{code!r} is not an ISO 3166-1 or ISO 3166-2 code")
    # A subdivision of the right shape that does not exist ("US-FLA") would leave the
    # customer under the country's rules alone, without the state's or province's own.
    if "-" in code and pycountry.subdivisions.get(code=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-2 subdivision")
    return code


@cache
def _iana_zones() -> frozenset[str]:
    """The names tzdata ships (canonical zones and their backward links), the same on every
    machine. ZoneInfo alone also loaded the server's own ``localtime``, ``posixrules`` and
    the leap-second ``right/`` zones, 27 seconds off civil time."""
    names = resources.files("tzdata").joinpath("zones").read_text().split()
    return frozenset(names) - {"Factory"}  # tzdata's "zone unknown" placeholder


def _zone(name: str) -> str:
    if name not in _iana_zones():
        raise ValueError(f"{name!r} is not an IANA time zone")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # named, but this machine lacks it
        raise ValueError(f"{name!r} is not an IANA time zone") from exc
    return name


def _period(text: str) -> str:
    return str(Period.parse(text))


Jurisdiction = Annotated[str, StringConstraints(max_length=6), AfterValidator(_jurisdiction)]
TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_zone)]
PeriodText = Annotated[str, StringConstraints(max_length=32), AfterValidator(_period)]


class RelationshipIn(Body):
    customer_since: IsoDate | None = None
    last_purchase_at: Instant | None = None
    last_inquiry_at: Instant | None = None


class ContactPointsIn(Body):
    email: list[Annotated[str, StringConstraints(max_length=320)]] = Field(
        default_factory=list, max_length=20
    )
    phone: list[Annotated[str, StringConstraints(max_length=32)]] = Field(
        default_factory=list, max_length=20
    )
    post: list[Annotated[str, StringConstraints(max_length=500)]] = Field(
        default_factory=list, max_length=10
    )
    push: list[Annotated[str, StringConstraints(max_length=500)]] = Field(
        default_factory=list, max_length=20
    )


class CustomerIn(Body):
    model_config = Body.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "jurisdictions": ["ES"],
                    "time_zone": "Europe/Madrid",
                    "birth_date": "1985-04-12",
                    "relationship": {
                        "customer_since": "2019-03-01",
                        "last_purchase_at": "2026-10-02T09:30:00Z",
                    },
                    "contact_points": {"email": ["ana@example.com"], "phone": ["+34 600 000 001"]},
                }
            ]
        }
    }

    jurisdictions: list[Jurisdiction] = Field(min_length=1, max_length=10)
    time_zone: TimeZone | None = None
    birth_date: IsoDate | None = None
    relationship: RelationshipIn = Field(default_factory=RelationshipIn)
    contact_points: ContactPointsIn = Field(default_factory=ContactPointsIn)


class LimitIn(Body):
    count: StrictInt = Field(ge=1, le=100_000)
    period: PeriodText


class QuietHoursIn(Body):
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        min_length=1, max_length=7
    )
    start: LocalTime
    end: LocalTime

    @field_validator("start", "end")
    @classmethod
    def _naive(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("quiet hours are in the customer's local time; give no offset")
        return value

    def weekday_numbers(self) -> frozenset[int]:
        return frozenset(WEEKDAYS.index(day) for day in self.days)


class PreferenceIn(Body):
    model_config = Body.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "status": "opted_in",
                    "direction": "outbound",
                    "limits": [{"count": 2, "period": "P7D"}],
                    "quiet_hours": [{"days": ["sat"], "start": "09:00", "end": "14:00"}],
                    "source": "portal",
                }
            ]
        }
    }

    status: PreferenceStatus
    direction: Direction = Direction.OUTBOUND
    limits: list[LimitIn] = Field(default_factory=list, max_length=10)
    quiet_hours: list[QuietHoursIn] = Field(default_factory=list, max_length=20)
    source: ShortText | None = None


class ConsentIn(Body):
    model_config = Body.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "purpose": "marketing",
                    "status": "granted",
                    "legal_basis": "consent",
                    "notice_version": "privacy-2026-01",
                    "source": "web-signup",
                    "captured_at": "2026-11-20T10:15:00Z",
                    "expires_at": "2028-11-20T10:15:00Z",
                    "form": "web_form",
                }
            ]
        }
    }

    purpose: Purpose
    status: ConsentStatus
    legal_basis: (
        Literal[
            "consent",
            "contract",
            "legal_obligation",
            "vital_interests",
            "public_task",
            "legitimate_interests",
        ]
        | None
    ) = None
    notice_version: ShortText | None = None
    source: ShortText | None = None
    captured_at: Instant | None = None
    expires_at: Instant | None = None
    form: ConsentForm | None = Field(
        default=None,
        description="How it was given. 'written': a signed written agreement, on paper or "
        "signed electronically (E-SIGN), the TCPA's prior express written consent that "
        "autodialed or prerecorded marketing calls and texts need; any other form, or none, "
        "is not written.",
    )

    @model_validator(mode="after")
    def _expiry_after_capture(self) -> "ConsentIn":
        if self.expires_at and self.captured_at and self.expires_at <= self.captured_at:
            raise ValueError("expires_at must be after captured_at")
        return self


class NoticeIn(Body):
    model_config = Body.model_config | {
        "json_schema_extra": {
            "examples": [
                {"kind": "glba_initial", "delivered_at": "2026-10-01T12:00:00Z", "method": "mail"}
            ]
        }
    }

    kind: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")]
    delivered_at: Instant
    method: Literal["mail", "email", "in_app", "in_person", "web"]


class Recorded(Body):
    audit_entry_id: int


class RevocationIn(Body):
    model_config = Body.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "channel": "sms",
                    "words": "STOP",
                    "destination": "+1 214 555 0100",
                    "received_at": "2026-11-26T15:04:05Z",
                }
            ]
        }
    }

    channel: Channel
    words: Annotated[str, StringConstraints(min_length=1, max_length=160)] = Field(
        description="What the customer said or wrote; any words revoke (47 CFR 64.1200(a)(10))."
    )
    destination: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = Field(
        default=None, description="The customer's number or address it came from."
    )
    received_at: Instant | None = Field(default=None, description="Default now; not later.")


class RevocationOut(BaseModel):
    customer_id: str
    channel: Channel
    words: str
    recognised: bool = Field(description="one of the standard words: STOP, QUIT, END, ...")
    destination_given: bool
    received_at: datetime
    recorded_at: datetime
    honour_by: date = Field(description="the law's latest date: 10 business days after receipt")
    audit_entry_id: int
