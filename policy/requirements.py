"""What a rule can require: a closed vocabulary of requirement kinds.

Each kind (in ``policy.kinds``) is a pydantic model for its ``[rules.params]`` table and a
small function ``(facts, params, rule) -> Reason | None``. A pack can only name a kind
listed in ``REQUIREMENTS``; adding a kind is a code change, reviewed like one.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from policy.facts import Facts
from policy.kinds.base import Params, RuleIdentity
from policy.kinds.consents import (
    ConsentParams,
    NoObjectionParams,
    NoOptOutParams,
    consent,
    consent_lapses_at,
    no_objection,
    no_opt_out,
    no_opt_out_lapses_at,
)
from policy.kinds.disclosures import NotDisclosedParams, not_disclosed
from policy.kinds.history import MaxContactsParams, max_contacts
from policy.kinds.hours import LocalHoursParams, local_hours, local_hours_close
from policy.kinds.lists import NotListedParams, copy_goes_stale, not_listed
from policy.kinds.notices import (
    NoticeElapsedParams,
    NoticeGivenParams,
    NoticeWithinParams,
    notice_elapsed,
    notice_elapsed_lapses_at,
    notice_given,
    notice_within,
    notice_within_lapses_at,
)
from policy.kinds.revocations import NoRevocationParams, no_revocation
from policy.reasons import Reason


class RequirementKind(StrEnum):
    CONSENT = "consent"
    NO_OBJECTION = "no_objection"
    NO_OPT_OUT = "no_opt_out"
    NOTICE_ELAPSED = "notice_elapsed"
    NOTICE_WITHIN = "notice_within"
    NOTICE_GIVEN = "notice_given"
    LOCAL_HOURS = "local_hours"
    NOT_LISTED = "not_listed"
    NO_REVOCATION = "no_revocation"
    MAX_CONTACTS = "max_contacts"
    NOT_DISCLOSED = "not_disclosed"


P = TypeVar("P", bound=Params)


@dataclass(frozen=True, slots=True)
class Requirement(Generic[P]):
    params_model: type[P]
    check: Callable[[Facts, P, RuleIdentity], Reason | None]
    # For a kind whose allow can lapse with time alone: the first instant after send_at at
    # which it would deny (an allow's valid_until ends there), or None.
    lapses_at: Callable[[Facts, P], datetime | None] | None = None


REQUIREMENTS: Mapping[RequirementKind, Requirement[Any]] = {
    RequirementKind.CONSENT: Requirement(ConsentParams, consent, consent_lapses_at),
    RequirementKind.NO_OBJECTION: Requirement(NoObjectionParams, no_objection),
    RequirementKind.NO_OPT_OUT: Requirement(NoOptOutParams, no_opt_out, no_opt_out_lapses_at),
    RequirementKind.NOTICE_ELAPSED: Requirement(
        NoticeElapsedParams, notice_elapsed, notice_elapsed_lapses_at
    ),
    RequirementKind.NOTICE_WITHIN: Requirement(
        NoticeWithinParams, notice_within, notice_within_lapses_at
    ),
    RequirementKind.NOTICE_GIVEN: Requirement(NoticeGivenParams, notice_given),
    RequirementKind.LOCAL_HOURS: Requirement(LocalHoursParams, local_hours, local_hours_close),
    RequirementKind.NOT_LISTED: Requirement(NotListedParams, not_listed, copy_goes_stale),
    RequirementKind.NO_REVOCATION: Requirement(NoRevocationParams, no_revocation),
    RequirementKind.MAX_CONTACTS: Requirement(MaxContactsParams, max_contacts),
    RequirementKind.NOT_DISCLOSED: Requirement(NotDisclosedParams, not_disclosed),
}
