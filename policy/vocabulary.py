"""The words every layer shares: channels, purposes, sources and statuses.

They live here, in the lowest layer, because both the gate (``consent``) and the policy
engine need them and data flows one way (api -> consent -> policy).
"""

from enum import StrEnum


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
