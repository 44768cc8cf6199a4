"""The words every layer shares: channels, purposes, sources and statuses.

They live here, in the lowest layer, because both the gate (``consent``) and the policy
engine need them and data flows one way (api -> consent -> policy).
"""

from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


def by_value(vocabulary: type[E]) -> dict[str, E]:
    """Each member by its stored text: for code that reads many stored values, as a dict
    look-up is far cheaper than calling the Enum (a third of a microsecond on 3.11)."""
    return {member.value: member for member in vocabulary}


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    POST = "post"
    PUSH = "push"


class PreferenceChannel(StrEnum):
    """A channel a preference can be set on: each channel, plus ``any`` for customer-wide limits."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    POST = "post"
    PUSH = "push"
    ANY = "any"


class Purpose(StrEnum):
    MARKETING = "marketing"
    SERVICE = "service"  # transactional or legally required: never stopped by marketing opt-outs
    PROFILING = "profiling"
    SHARE_AFFILIATES = "share_affiliates"
    SHARE_THIRD_PARTIES = "share_third_parties"


class Source(StrEnum):
    CAMPAIGN = "campaign"
    TELEMARKETING = "telemarketing"
    EVENT_TRIGGER = "event_trigger"
    TRANSACTIONAL = "transactional"
    DATA_USE = "data_use"


class LegalException(StrEnum):
    """A named exception of Regulation P a caller invokes for one disclosure of nonpublic
    personal information to a nonaffiliated third party (12 CFR 1016.13-15).

    Each lifts some of the notice and opt-out requirements; which ones, each rule says in its
    pack (``exempt_under``, ``only_under``). The gate records the caller's claim, which is
    what accountability rests on; it cannot check the facts behind it.
    """

    SERVICE_PROVIDER = "service_provider"  # 1016.13(a)(1): services or functions for you
    JOINT_MARKETING = "joint_marketing"  # 1016.13(a)(2), (b)-(c): under a joint agreement
    PROCESSING_SERVICING = "processing_servicing"  # 1016.14: a transaction the consumer asked for
    CONSENT_OR_DIRECTION = "consent_or_direction"  # 1016.15(a)(1): not revoked
    FRAUD_SECURITY = "fraud_security"  # 1016.15(a)(2)(i)-(ii): security of records, fraud
    RISK_CONTROL = "risk_control"  # 1016.15(a)(2)(iii): risk control, disputes, inquiries
    INTEREST_OR_FIDUCIARY = "interest_or_fiduciary"  # 1016.15(a)(2)(iv)-(v)
    AUDIT_AND_RATING = "audit_and_rating"  # 1016.15(a)(3): raters, auditors, attorneys
    LAW_ENFORCEMENT = "law_enforcement"  # 1016.15(a)(4): as other law permits, per the RFPA
    CONSUMER_REPORTING = "consumer_reporting"  # 1016.15(a)(5): under the FCRA
    CORPORATE_TRANSACTION = "corporate_transaction"  # 1016.15(a)(6): sale or merger of a unit
    LEGAL_PROCESS = "legal_process"  # 1016.15(a)(7): laws, subpoenas, judicial process


class DataCategory(StrEnum):
    """What a disclosure includes, as the caller says."""

    NONPUBLIC_PERSONAL_INFORMATION = "nonpublic_personal_information"  # as 12 CFR 1016.3 defines
    # An account number or similar access number or code for a credit card, deposit or
    # transaction account (12 CFR 1016.12(a)); an encrypted one without the means to decode
    # it is not one (1016.12(c)(1)).
    ACCOUNT_NUMBER = "account_number"


class ConsentStatus(StrEnum):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    OBJECTED = "objected"  # GDPR Art 21: an objection, absolute for direct marketing


class PreferenceStatus(StrEnum):
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"
    NOT_ASKED = "not_asked"


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND_ONLY = "inbound_only"  # the customer contacts us; we never contact them


class Decision(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
