"""Kinds about what the customer agreed to or refused: consent, objection, opt-out."""

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Annotated, cast

from pydantic import Field, field_validator

from policy.facts import ConsentFact, Facts
from policy.jurisdictions import EEA, EU, GROUPS, expand, is_valid_code
from policy.kinds.base import Params, PurposeField, Purposes, RuleIdentity, day, deny
from policy.kinds.relationships import (
    FOREVER,
    RelationshipParams,
    lapse,
    relationship_gap,
    relationship_holds_until,
)
from policy.reasons import Reason
from policy.vocabulary import ConsentStatus, PreferenceStatus, Purpose

_Age = Annotated[int, Field(ge=1, le=21)]
_Place = Annotated[str, Field(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$|^EEA$")]  # or EU


class _AgeTable(dict[str, int]):
    """An age table that hashes by its items, computed once: the key of the cache below."""

    __slots__ = ("_hash",)

    def __hash__(self) -> int:  # type: ignore[override]  # never changed once loaded
        try:
            return self._hash
        except AttributeError:
            self._hash: int = hash(frozenset(self.items()))
            return self._hash


class AgeParams(Params):
    """The age from which a customer's own consent counts, where they live.

    A consent given younger does not count (LOPDGDD Art 7: 14 in Spain; GDPR Art 8(1): 16,
    or the member state's lower age). An unknown age (no birth date on record) is not held
    against the consent, and only a record on consent is judged: a contract or legitimate
    interests need no age of consent.
    """

    min_age: _Age | None = None
    # The age by place (GDPR Art 8(1): "EEA" = 16 and each state's lower age; Quebec's 14
    # as "CA-QC"). A place takes its own entry, else its country's, else its group's ("EU",
    # "EEA"); a customer of several places is held to the highest of their ages;
    # ``min_age`` where the table names none.
    min_age_in: dict[_Place, _Age] = Field(default_factory=dict)

    @field_validator("min_age_in")
    @classmethod
    def _places_exist(cls, ages: dict[str, int]) -> dict[str, int]:
        unknown = sorted(code for code in ages if not is_valid_code(code, allow_groups=True))
        if unknown:
            raise ValueError(f"not ISO 3166 codes nor EU / EEA: {', '.join(unknown)}")
        return _AgeTable(ages)

    def min_age_for(self, places: frozenset[str]) -> int | None:
        if not self.min_age_in:
            return self.min_age
        table = cast(_AgeTable, self.min_age_in)  # as the validator made it
        return _min_age_for(table, self.min_age, places)


# Customers' places repeat (a few sets serve every check), and expanding them is not free.
@lru_cache(maxsize=4096)
def _min_age_for(table: _AgeTable, default: int | None, places: frozenset[str]) -> int | None:
    ages = [age for code in places if (age := _age_in(table, code)) is not None]
    return max(ages, default=default)


def _age_in(table: Mapping[str, int], code: str) -> int | None:
    """The most specific entry for a place: its own (a subdivision's), else its country's
    (the highest, for a territory also part of another), else its narrower group's."""
    if not is_valid_code(code, allow_groups=True):
        return None  # no place: the engine reports it (policy.unknown_jurisdiction)
    if code in table:
        return table[code]
    covering = expand((code,))
    own = [table[place] for place in covering - GROUPS if place in table]
    if own:
        return max(own)
    for group in (EU, EEA):  # the narrower group first
        if group in covering and group in table:
            return table[group]
    return None


class ConsentParams(AgeParams):
    purpose: PurposeField
    channel_opt_in: bool = False
    # Only a signed written agreement counts (E-SIGN signatures included): the TCPA's prior
    # express written consent, 47 CFR 64.1200(f)(9).
    written: bool = False
    # The rule binds only autodialed, prerecorded or artificial-voice contacts, 47 CFR
    # 64.1200(a)(2); a contact the caller says is manual is not judged by it.
    only_automated: bool = False
    # Consent, or else this relationship, which counts only while the customer has not
    # opted out of the purpose or the channel (the soft opt-in; CASL implied consent).
    or_relationship: RelationshipParams | None = None
    # A granted record on any lawful basis counts (GDPR Art 6(1): the basis must exist, not
    # be consent). Otherwise only one on consent does: a record of legitimate interests or
    # a contract documents that basis, and is no consent to e-mail, call or be listed.
    any_basis: bool = False


class NoObjectionParams(Params):
    purposes: Purposes


class NoOptOutParams(Params):
    purpose: PurposeField
    # The channel's own opt-out counts too: an unsubscribe from email is an opt-out of
    # commercial email (15 USC 7704(a)(3)-(4); CASL s.11).
    channel_opt_out: bool = False
    # The opt-out does not bar a contact while this relationship holds (FCRA's pre-existing
    # business relationship, 12 CFR 1022.21(c)(1)).
    or_relationship: RelationshipParams | None = None


def consent(facts: Facts, params: ConsentParams, rule: RuleIdentity) -> Reason | None:
    """A granted consent for the purpose, in force at send time; and the channel opted in."""
    if params.only_automated and not facts.automated:
        return None
    found = _consent_gaps(facts, params)
    if found and params.or_relationship is not None:
        # Where the rule allows it, a relationship is enough when consent is missing.
        instead = _relationship_instead(facts, params.purpose, params.or_relationship)
        if instead is None:
            return None
        found.append(instead)
    return deny(rule, found)


def _consent_gaps(facts: Facts, params: ConsentParams) -> list[str]:
    gaps = [consent_gap(facts, params.purpose, params, any_basis=params.any_basis)]
    if params.written and gaps[0] is None:
        gaps.append(written_gap(facts, params.purpose))
    if params.channel_opt_in:
        gaps.append(channel_gap(facts))
    return [gap for gap in gaps if gap is not None]


def consent_lapses_at(facts: Facts, params: ConsentParams) -> datetime | None:
    """When an allow under ``consent`` stops holding with time alone: the consent expiring,
    or the relationship standing in for it ending, whichever comes later. Asked only of an
    allow, so without a relationship to stand in, the consent is there."""
    if params.only_automated and not facts.automated:
        return None
    if params.or_relationship is None:  # the allow rests on the consent alone
        record = facts.consents.get(params.purpose)
        return None if record is None else record.expires_at
    ends = [facts.send_at]
    if not _consent_gaps(facts, params):
        expires_at = facts.consents[params.purpose].expires_at
        ends.append(FOREVER if expires_at is None else expires_at)
    if _refusal(facts, params.purpose) is None:
        ends.append(relationship_holds_until(facts, params.or_relationship))
    return lapse(max(ends))


def _relationship_instead(
    facts: Facts, purpose: Purpose, relationship: RelationshipParams
) -> str | None:
    """Why a relationship does not stand in for consent, or None if it does."""
    refusal = _refusal(facts, purpose)
    if refusal is not None:
        return refusal
    gap = relationship_gap(facts, relationship)
    return None if gap is None else f"no relationship in its place: {gap}"


def _refusal(facts: Facts, purpose: Purpose) -> str | None:
    """A refusal that ends the relationship exception: ePrivacy Art 13(2) and LSSI Art 21.2
    hold only while the customer has not objected, and under CASL s.11 an unsubscribe
    withdraws implied consent too."""
    record = facts.consents.get(purpose)
    if record is not None and record.status is not ConsentStatus.GRANTED:
        return f"no relationship exception once the customer refused {purpose}"
    if facts.channel_status is PreferenceStatus.OPTED_OUT:
        return "no relationship exception once the customer opted out of the channel"
    return None


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

    12 CFR 1016.7 (duration of the opt-out direction): the direction holds until the
    consumer revokes it, so the record's expiry, if one was set, is ignored here. A later
    grant is the revocation.
    """
    gaps = _opt_outs(facts, params)
    if gaps and params.or_relationship is not None:
        gap = relationship_gap(facts, params.or_relationship)
        if gap is None:
            return None
        gaps.append(f"and no relationship exception applies: {gap}")
    return deny(rule, gaps)


def _opt_outs(facts: Facts, params: NoOptOutParams) -> list[str]:
    gaps = []
    record = facts.consents.get(params.purpose)
    if record is not None and record.status is not ConsentStatus.GRANTED:
        gaps.append(
            f"customer opted out of {params.purpose} on {day(record.captured_at)}, "
            "which holds until they revoke it"
        )
    if params.channel_opt_out and facts.channel_status is PreferenceStatus.OPTED_OUT:
        gaps.append(f"customer opted out of the {facts.channel} channel")
    return gaps


def no_opt_out_lapses_at(facts: Facts, params: NoOptOutParams) -> datetime | None:
    """An opt-out never lapses, but the relationship that lets a contact past one does."""
    if params.or_relationship is None or not _opt_outs(facts, params):
        return None
    return lapse(relationship_holds_until(facts, params.or_relationship))


def consent_gap(
    facts: Facts, purpose: Purpose, ages: AgeParams | None = None, *, any_basis: bool = False
) -> str | None:
    """Why there is no usable consent for the purpose at send time, or None if there is.
    With ``any_basis``, a granted record on any lawful basis is usable; with ``ages``, a
    consent given under the customer's age of consent is not."""
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
    return _basis_gap(record, purpose, any_basis) or _age_gap(facts, record, purpose, ages)


def _basis_gap(record: ConsentFact, purpose: Purpose, any_basis: bool) -> str | None:
    """A grant on another basis than consent is none, where the rule needs consent."""
    if any_basis or record.is_consent:
        return None
    return f"the record for {purpose} rests on {record.legal_basis}, not on consent"


def _age_gap(
    facts: Facts, record: ConsentFact, purpose: Purpose, ages: AgeParams | None
) -> str | None:
    """A consent given under the customer's age of consent is no consent."""
    age = record.age_at_capture
    if ages is None or age is None or not record.is_consent:
        return None
    min_age = ages.min_age_for(facts.jurisdictions)
    if min_age is None or age >= min_age:
        return None
    return f"consent for {purpose} was given at age {age}, younger than {min_age}"


def written_gap(facts: Facts, purpose: Purpose) -> str | None:
    """Why the consent on record is not a signed written agreement, or None if it is."""
    record = facts.consents.get(purpose)
    if record is None or record.written:
        return None
    return (
        f"the consent for {purpose} given on {day(record.captured_at)} is not a signed "
        "written agreement"
    )


def channel_gap(facts: Facts) -> str | None:
    """Why the channel is not opted in, or None if it is."""
    if facts.channel_status is PreferenceStatus.OPTED_IN:
        return None
    channel = f"{facts.channel} channel" if facts.channel is not None else "channel"
    if facts.channel_status is PreferenceStatus.OPTED_OUT:
        return f"{channel} not opted in (customer opted out)"
    # RULES.md: unknown is deny; a customer never asked has not opted in.
    return f"{channel} not opted in (customer never asked)"
