"""Contact points: how each kind is normalised before it is hashed and sealed.

Normalising first means "Ana@Example.com " and "ana@example.com" find the same customer, and
"+34 600 00 00 01" and "+34600000001" the same phone.
"""

import re

import phonenumbers
from phonenumbers import timezone as phone_timezones

from consent.errors import InvalidContactPointError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_UNKNOWN_ZONE = "Etc/Unknown"  # what phonenumbers answers when a number has no known zone


def normalise_email(address: str) -> str:
    candidate = address.strip().lower()
    if len(candidate) > 320 or not _EMAIL.match(candidate):
        raise InvalidContactPointError("not an email address")
    return candidate


def parse_phone(number: str, default_region: str | None = None) -> phonenumbers.PhoneNumber:
    try:
        parsed = phonenumbers.parse(number, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidContactPointError("not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidContactPointError("not a valid phone number for its country")
    return parsed


def normalise_phone(number: str, default_region: str | None = None) -> str:
    """E.164 (``+34600000001``); a national number needs the customer's country."""
    return phonenumbers.format_number(
        parse_phone(number, default_region), phonenumbers.PhoneNumberFormat.E164
    )


def phone_time_zones(e164: str) -> tuple[str, ...]:
    """The IANA zones a number may ring in; several for a country or area spanning zones."""
    zones = phone_timezones.time_zones_for_number(phonenumbers.parse(e164))
    return tuple(zone for zone in zones if zone != _UNKNOWN_ZONE)


def normalise_post(address: str) -> str:
    """Collapse case and whitespace so the same letterbox hashes the same."""
    collapsed = " ".join(address.split()).lower()
    if not collapsed:
        raise InvalidContactPointError("empty postal address")
    return collapsed


def normalise_push(token: str) -> str:
    stripped = token.strip()
    if not stripped:
        raise InvalidContactPointError("empty push token")
    return stripped


def contact_kind_for_channel(channel: str) -> str:
    """SMS and calls both go to a phone number; every other channel has its own kind."""
    return "phone" if channel in ("sms", "phone") else channel


def normalise(kind: str, value: str, default_region: str | None = None) -> str:
    if kind == "email":
        return normalise_email(value)
    if kind == "phone":
        return normalise_phone(value, default_region)
    if kind == "post":
        return normalise_post(value)
    if kind == "push":
        return normalise_push(value)
    raise InvalidContactPointError(f"unknown contact kind {kind!r}")
