"""Kinds about what the customer agreed to or refused: consent, objection, opt-out."""

from policy.facts import Facts
from policy.kinds.base import Params, PurposeField, Purposes, RuleIdentity, day, deny
from policy.reasons import Reason
from policy.vocabulary import ConsentStatus, PreferenceStatus, Purpose


class ConsentParams(Params):
    purpose: PurposeField
    channel_opt_in: bool = False


class NoObjectionParams(Params):
    purposes: Purposes


class NoOptOutParams(Params):
    purpose: PurposeField


def consent(facts: Facts, params: ConsentParams, rule: RuleIdentity) -> Reason | None:
    """A granted consent for the purpose, in force at send time; and the channel opted in."""
    gaps = [consent_gap(facts, params.purpose)]
    if params.channel_opt_in:
        gaps.append(channel_gap(facts))
    return deny(rule, [gap for gap in gaps if gap is not None])


def no_objection(facts: Facts, params: NoObjectionParams, rule: RuleIdentity) -> Reason | None:
    """No objection on record for any of the purposes (GDPR Art 21(3): it is absolute)."""
    return deny(
        rule,
        [
            f"customer objected to {purpose} on {day(record.captured_at)}"
            for purpose in params.purposes
            if (record := facts.consents.get(purpose)) is not None
            and record.status is ConsentStatus.OBJECTED
        ],
    )


def no_opt_out(facts: Facts, params: NoOptOutParams, rule: RuleIdentity) -> Reason | None:
    """No withdrawal or objection on record; an opt-out never expires on its own.

    12 CFR 1016.7(i)(1): the direction holds until the consumer revokes it, so the record's
    expiry, if one was set, is ignored here.
    """
    record = facts.consents.get(params.purpose)
    if record is None or record.status is ConsentStatus.GRANTED:
        return None
    return deny(
        rule,
        [
            f"customer opted out of {params.purpose} on {day(record.captured_at)}, "
            "which holds until they revoke it"
        ],
    )


def consent_gap(facts: Facts, purpose: Purpose) -> str | None:
    """Why there is no usable consent for the purpose at send time, or None if there is."""
    record = facts.consents.get(purpose)
    if record is None:
        return f"no consent recorded for {purpose}"
    if record.status is ConsentStatus.WITHDRAWN:
        return f"consent for {purpose} withdrawn on {day(record.captured_at)}"
    if record.status is ConsentStatus.OBJECTED:
        return f"customer objected to {purpose} on {day(record.captured_at)}"
    if not record.in_force(facts.send_at):
        on = f" on {day(record.expires_at)}" if record.expires_at is not None else ""
        return f"consent for {purpose} expired{on}"
    if record.captured_at > facts.send_at:
        # Prior consent: a grant recorded after the send time did not exist at it.
        return f"consent for {purpose} only given on {day(record.captured_at)}, after send time"
    return None


def channel_gap(facts: Facts) -> str | None:
    """Why the channel is not opted in, or None if it is."""
    if facts.channel_status is PreferenceStatus.OPTED_IN:
        return None
    channel = f"{facts.channel} channel" if facts.channel is not None else "channel"
    if facts.channel_status is PreferenceStatus.OPTED_OUT:
        return f"{channel} not opted in (customer opted out)"
    # RULES.md: unknown is deny; a customer never asked has not opted in.
    return f"{channel} not opted in (customer never asked)"
