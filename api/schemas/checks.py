"""Bodies of the gate: the check request, its answer, and outcomes."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, model_validator

from api.schemas.base import Body, Instant, TypedBody, nul_free_text
from api.schemas.customers import CustomerId
from policy.vocabulary import Channel, DataCategory, Decision, LegalException, Purpose, Source

_DataCategories = Annotated[list[DataCategory], Field(min_length=1, max_length=16)]


class CheckIn(TypedBody):
    model_config = TypedBody.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "customer_id": "C-1001",
                    "channel": "email",
                    "purpose": "marketing",
                    "source": "campaign",
                    "campaign_id": "black-friday-2026",
                    "destination": "ana@example.com",
                    "send_at": "2026-11-27T09:00:00Z",
                    "dry_run": False,
                    "automated": True,
                },
                {
                    "customer_id": "C-2002",
                    "purpose": "share_third_parties",
                    "source": "data_use",
                    "exception": "service_provider",
                    "data_categories": ["nonpublic_personal_information"],
                },
            ]
        }
    }

    customer_id: CustomerId
    channel: Channel | None = Field(
        default=None,
        description="How the contact is made. Required for every source but data_use, a "
        "use of data that contacts no one (such as sharing), which must omit it.",
    )
    purpose: Purpose
    source: Source
    campaign_id: Annotated[str, nul_free_text(128)] | None = None
    destination: Annotated[str, nul_free_text(500)] | None = None
    send_at: Instant | None = Field(
        default=None,
        description="When the contact will be made; default now. A time already past is "
        "decided as now (the answer's send_at says so): a contact can only be made from now on.",
    )
    dry_run: StrictBool = False
    automated: StrictBool = Field(
        default=True,
        description="Made with an autodialer, a prerecorded or an artificial voice, or sent "
        "automatically (TCPA 47 CFR 64.1200(a)(2); in the EEA, ePrivacy Art 13(1) and LGTel "
        "Art 66.1.a: an automated marketing call needs consent). Unsaid, a contact counts as "
        "automated: send false for a call a person dials by hand.",
    )
    exception: LegalException | None = Field(
        default=None,
        description="The named exception of Regulation P under which this disclosure is made "
        "(12 CFR 1016.13-15): service_provider, joint_marketing (1016.13), "
        "processing_servicing (1016.14), or a 1016.15(a) exception. It lifts the rules its "
        "pack says it lifts; the claim is recorded with the decision. Omit for none.",
    )
    data_categories: _DataCategories | None = Field(
        default=None,
        description="What the disclosure includes, e.g. account_number (an account number or "
        "access code for a credit card, deposit or transaction account, 12 CFR 1016.12). "
        "Omitted, a disclosure is read as nonpublic personal information without account "
        "numbers; the claim is recorded with the decision.",
    )

    @model_validator(mode="after")
    def _a_contact_names_its_channel(self) -> "CheckIn":
        """Only a data use has no channel. A campaign check without one was allowed with no
        channel rule read: an opted-out customer's "allow" for a tool that forgot the field.
        """
        if self.channel is None and self.source is not Source.DATA_USE:
            raise ValueError(
                f"channel is required for a contact (source {self.source}); "
                "omit it only for source data_use"
            )
        if self.channel is not None and self.source is Source.DATA_USE:
            # It was decided as a contact and, allowed, took a slot of the channel's limits:
            # a profiling check used up the day's one marketing email.
            raise ValueError("a data_use check names no channel: a data use is not a contact")
        return self


class ReasonOut(BaseModel):
    rule: str
    regime: str
    citation: str
    message: str
    earliest_allowed_at: datetime | None = None


class CheckOut(BaseModel):
    check_id: str
    decision: Decision
    reasons: list[ReasonOut]
    policy_version: str
    valid_until: datetime | None = Field(
        description="How long an allow holds: send_at plus the validity (24 h; 1 h for an "
        "event_trigger), or sooner, at the first instant time alone would deny it (the consent "
        "expiring, the customer's quiet hours, the law's calling hours, a suppression-list "
        "copy going stale). Null for a deny."
    )
    earliest_allowed_at: datetime | None
    earliest_allowed_at_local: datetime | None = Field(
        default=None, description="earliest_allowed_at on the customer's own clock"
    )
    audit_entry_id: int
    customer_id: str
    channel: Channel | None
    purpose: Purpose
    source: Source
    campaign_id: str | None
    send_at: datetime
    decided_at: datetime
    dry_run: bool


class OutcomeIn(Body):
    model_config = Body.model_config | {"json_schema_extra": {"examples": [{"outcome": "sent"}]}}

    outcome: Literal["sent", "failed", "cancelled"] = Field(
        description="failed: attempted and not delivered (an unanswered call); cancelled: "
        "never placed. Both give the slot back to the customer's limits and the duplicate "
        "rule; the law's caps on calls made still count a failed one"
    )


class OutcomeOut(BaseModel):
    check_id: str
    outcome: Literal["sent", "failed", "cancelled"]
    recorded_at: datetime | None
    late: bool = Field(description="sent after the decision's valid_until")
    early: bool = Field(
        default=False,
        description="sent before the send_at the decision was for, so at a time the rules "
        "were not judged at",
    )
    after_refusal: bool = Field(
        default=False,
        description="sent when the customer had, since the decision, withdrawn or objected "
        "to the purpose, opted out of the channel (or of every channel), asked to be "
        "contacted only inbound, said STOP, or been erased, as known when it was reported",
    )
    audit_entry_id: int | None = None


class RecordedCheckOut(CheckOut):
    outcome: OutcomeOut | None = None
