"""Check-and-record: decide, reserve and audit one outbound contact in one transaction.

The transaction locks the customer first (row lock on PostgreSQL, BEGIN IMMEDIATE on
SQLite), so two callers racing for the last slot of a limit are decided one after the
other, and the answer leaves only after the commit: a decision the caller sees is durable.
"""

import hashlib
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Engine
from uuid_utils import uuid7

from audit.canonical import canonical_bytes
from audit.entry import Actor, AuditEntry
from consent.answers import CheckAnswer, instant
from consent.contacts import contact_kind_for_channel, normalise
from consent.crypto import KeyRing
from consent.decide import (
    ContactRequest,
    allow_holds_until,
    earliest_allowed,
    erased_customer,
    judged,
    unknown_customer,
)
from consent.errors import IdempotencyConflictError, InvalidContactPointError
from consent.preferences import governing_channel
from consent.state import CustomerState
from consent.store.async_postgres import AsyncPostgresRunner
from consent.store.async_sqlite import AsyncSqliteRunner
from consent.store.gate_sql import CheckRow, PriorCheck
from consent.store.runners import GateRunner, runner_for, sqlite_path
from consent.store.steps import Begin, History, LoadHistory, Record, Steps, drive
from consent.suppression import hashes_to_consult
from policy.engine import PolicyEngine
from policy.fast_init import fast_init
from policy.periods import Period
from policy.reasons import Reason
from policy.requirements import RequirementKind
from policy.vocabulary import (
    Channel,
    DataCategory,
    Decision,
    LegalException,
    PreferenceChannel,
    Purpose,
    Source,
)


@dataclass(frozen=True, slots=True)
class GateSettings:
    event_trigger_validity: timedelta = timedelta(hours=1)
    default_validity: timedelta = timedelta(hours=24)
    # How long a check waits for a PostgreSQL connection before answering 503 (fail closed).
    store_timeout: timedelta = timedelta(seconds=5)
    store_connections: int = 8  # the gate's own PostgreSQL connections per process


@fast_init
@dataclass(frozen=True, slots=True)
class CheckCommand:
    customer_id: str
    purpose: Purpose
    source: Source
    idempotency_key: str
    channel: Channel | None = None
    campaign_id: str | None = None
    destination: str | None = None
    send_at: datetime | None = None
    dry_run: bool = False
    automated: bool = True  # TCPA 47 CFR 64.1200(a)(2): fail closed, a caller says "manual"
    # The named exception invoked (12 CFR 1016.13-15) and what the disclosure includes, as
    # the caller says; empty when unsaid.
    exception: LegalException | None = None
    data_categories: frozenset[DataCategory] = frozenset()

    def request_hash(self, seal: Callable[[str], str] | None = None) -> str:
        """What "the same request" means for an idempotency key: the body as sent.

        The hash is stored with the check, beside every other field of the body; with the
        destination in clear it would give the destination away to a search of phone numbers
        or known e-mail addresses. So it enters as ``seal(destination)``, a keyed digest.
        Without ``seal``: the hash as recorded before, which a retry may still have to match.
        """
        destination = self.destination
        if seal is not None and destination is not None:
            destination = seal(destination)
        body: dict[str, object] = {
            "customer_id": self.customer_id,
            "channel": self.channel,
            "purpose": self.purpose,
            "source": self.source,
            "campaign_id": self.campaign_id,
            "destination": destination,
            "send_at": instant(self.send_at),
            "dry_run": self.dry_run,
        }
        if not self.automated:
            # Only when not the default, so that a request hashed before the field existed
            # (a retry across an upgrade) still matches its first answer.
            body["automated"] = False
        # Likewise only when said, so that requests hashed before these fields still match.
        if self.exception is not None:
            body["exception"] = self.exception
        if self.data_categories:
            body["data_categories"] = sorted(self.data_categories)
        return hashlib.sha256(canonical_bytes(body)).hexdigest()


@fast_init
@dataclass(frozen=True, slots=True)
class CheckResult:
    """The answer as the contract shapes it: what is sent, and what a retry replays."""

    document: dict[str, Any]
    replayed: bool  # True when an earlier answer to the same idempotency key was returned

    @property
    def answer(self) -> CheckAnswer:
        """The same answer as an object, parsed from the document (for tests and tools)."""
        return CheckAnswer.from_document(self.document)


CheckSteps = Steps[CheckResult]


class Gate:
    def __init__(
        self,
        engine: Engine,
        policy: PolicyEngine,
        keyring: KeyRing,
        settings: GateSettings,
        runner: GateRunner | None = None,
    ) -> None:
        self._policy = policy
        self._keyring = keyring
        self._settings = settings
        self._runner: GateRunner = runner or runner_for(engine)
        # Only checks that a suppression-list rule governs pay for the list look-up.
        self._reads_lists = _list_scopes(policy)
        self._async_runner = _async_runner_for(engine, settings)

    def submit(self, command: CheckCommand, actor: Actor, now: datetime) -> "Future[CheckResult]":
        """Decide, reserve and audit on the runner; the future resolves after the commit."""
        return self._runner.submit(lambda tx: drive(self._steps(command, actor, now), tx))

    def check(self, command: CheckCommand, actor: Actor, now: datetime) -> CheckResult:
        return self.submit(command, actor, now).result()

    async def check_async(self, command: CheckCommand, actor: Actor, now: datetime) -> CheckResult:
        """The same check for an event loop, which runs the store's statements itself."""
        return await self._async_runner.run(lambda: self._steps(command, actor, now))

    async def open_async(self) -> None:
        await self._async_runner.open()

    async def close_async(self) -> None:
        await self._async_runner.close()

    def close(self) -> None:
        self._runner.close()

    def _steps(self, command: CheckCommand, actor: Actor, now: datetime) -> CheckSteps:
        """The check as a sequence of store requests; the runners perform them (sans-IO)."""
        request_hash = command.request_hash(self._keyring.request_seal)
        begun: tuple[CustomerState | None, PriorCheck | None] = yield Begin(
            command.customer_id, actor.name, command.idempotency_key
        )
        state, prior = begun
        if prior is not None:
            return _replay(prior, request_hash, command)
        send_at = _not_before(command.send_at, now)
        reasons: tuple[Reason, ...] = ()
        earliest = valid_until = None
        request = self._contact_request(command, state, send_at)
        if isinstance(request, Reason):
            reasons = (request,)
        else:
            assert state is not None  # noqa: S101 - a request exists only for a known customer
            since = _lookback(state, request, self._policy.lookbacks)
            hashes = (
                hashes_to_consult(state, request.channel, request.destination_hash)
                if (request.channel, request.purpose) in self._reads_lists
                else None
            )
            loaded: History = yield LoadHistory(state.pk, since, request.campaign_id, hashes)
            history, lists = loaded
            if lists is not None:
                request = request.with_lists(lists)
            reasons, facts = judged(state, request, history, self._policy)
            if reasons:
                earliest = earliest_allowed(state, request, history, self._policy, reasons)
            else:
                longest = self._validity_end(command, send_at)
                valid_until = allow_holds_until(state, request, facts, self._policy, longest)
        answer = self._answer(command, state, send_at, now, reasons, earliest, valid_until)
        document = answer.document()
        seq: int = yield Record(
            _decision_entry(answer, document, command, actor),
            _check_row(answer, document, command, request_hash, state, actor),
        )
        return CheckResult({**document, "audit_entry_id": seq}, replayed=False)

    def _answer(
        self,
        command: CheckCommand,
        state: CustomerState | None,
        send_at: datetime,
        now: datetime,
        reasons: tuple[Reason, ...],
        earliest: datetime | None,
        valid_until: datetime | None,
    ) -> CheckAnswer:
        allowed = not reasons
        return CheckAnswer(
            # Time-ordered (UUIDv7): the checks' primary key grows at its end, so a batch's
            # COMMIT writes a page or two for it rather than a page per check.
            check_id=str(uuid7()),
            customer_id=command.customer_id,
            channel=command.channel,
            purpose=command.purpose,
            source=command.source,
            campaign_id=command.campaign_id,
            send_at=send_at,
            decided_at=now,
            dry_run=command.dry_run,
            decision=Decision.ALLOW if allowed else Decision.DENY,
            reasons=reasons,
            policy_version=self._policy.version,
            valid_until=valid_until,
            earliest_allowed_at=earliest,
            earliest_allowed_at_local=_on_customer_clock(earliest, state),
            audit_entry_id=0,  # assigned by the store when the entry is appended
        )

    def _contact_request(
        self, command: CheckCommand, state: CustomerState | None, send_at: datetime
    ) -> ContactRequest | Reason:
        """What to decide on, or the one reason there is nothing to decide."""
        if state is None:
            return unknown_customer(command.customer_id)
        if state.erased:
            return erased_customer()
        try:
            destination_hash = self._destination_hash(command, state)
        except InvalidContactPointError as exc:
            return _invalid_destination(exc.detail)
        return ContactRequest(
            channel=command.channel,
            purpose=command.purpose,
            source=command.source,
            send_at=send_at,
            campaign_id=command.campaign_id,
            destination_hash=destination_hash,
            automated=command.automated,
            exception=command.exception,
            data_categories=command.data_categories,
        )

    def _destination_hash(self, command: CheckCommand, state: CustomerState) -> bytes | None:
        if command.destination is None or command.channel is None:
            return None
        kind = contact_kind_for_channel(command.channel)
        region = next((code[:2] for code in sorted(state.jurisdictions)), None)
        return self._keyring.lookup_hash(kind, normalise(kind, command.destination, region))

    def _validity_end(self, command: CheckCommand, send_at: datetime) -> datetime:
        """The longest an allow holds (``allow_holds_until`` may end it sooner)."""
        validity = (
            self._settings.event_trigger_validity
            if command.source is Source.EVENT_TRIGGER
            else self._settings.default_validity
        )
        return send_at + validity  # send_at is never before now


def _not_before(send_at: datetime | None, now: datetime) -> datetime:
    """When the contact is decided for: its send_at, but never before now.

    A contact can only be made from now on. Decided at a past send_at, a check made during
    the customer's quiet hours with yesterday's send_at was allowed, and valid for a day: the
    time-of-day rules (quiet hours, calling hours) held for an instant already gone.
    """
    return send_at if send_at is not None and send_at > now else now


def _replay(prior: PriorCheck, request_hash: str, command: CheckCommand) -> CheckResult:
    # A check recorded before destinations were sealed holds the plain hash.
    if prior.request_hash != request_hash and prior.request_hash != command.request_hash():
        raise IdempotencyConflictError(
            "this Idempotency-Key was already used for a different request"
        )
    return CheckResult(prior.response, replayed=True)


def _check_row(
    answer: CheckAnswer,
    document: dict[str, Any],
    command: CheckCommand,
    request_hash: str,
    state: CustomerState | None,
    actor: Actor,
) -> CheckRow:
    allowed = answer.decision == Decision.ALLOW
    return CheckRow(
        id=answer.check_id,
        caller=actor.name,
        idempotency_key=command.idempotency_key,
        request_hash=request_hash,
        customer_external_id=command.customer_id,
        customer_pk=state.pk if state is not None else None,
        channel=command.channel,
        purpose=command.purpose,
        source=command.source,
        campaign_id=command.campaign_id,
        send_at=answer.send_at,
        decided_at=answer.decided_at,
        decision=answer.decision,
        dry_run=command.dry_run,
        reserved=allowed and not command.dry_run,
        counts_toward_limits=command.channel is not None and command.purpose is not Purpose.SERVICE,
        valid_until=answer.valid_until,
        policy_version=answer.policy_version,
        response=orjson.dumps(document).decode(),
    )


def _on_customer_clock(at: datetime | None, state: CustomerState | None) -> datetime | None:
    zones = state.known_time_zones() if state is not None else ()
    return at.astimezone(ZoneInfo(zones[0])) if at is not None and zones else None


def _lookback(state: CustomerState, request: ContactRequest, law: tuple[Period, ...]) -> datetime:
    """How far back reservations can still count: the longest limit or rule that applies."""
    if request.channel is None:
        return request.send_at
    starts = [request.send_at, *(period.subtract_from(request.send_at) for period in law)]
    for channel in (governing_channel(request.channel), PreferenceChannel.ANY):
        starts.extend(
            limit.period.subtract_from(request.send_at)
            for limit in state.preference(channel).limits
        )
    return min(starts)


def _async_runner_for(
    engine: Engine, settings: GateSettings
) -> AsyncPostgresRunner | AsyncSqliteRunner:
    timeout = settings.store_timeout.total_seconds()
    if engine.dialect.name == "sqlite":
        return AsyncSqliteRunner(sqlite_path(engine), timeout=timeout)
    return AsyncPostgresRunner(engine, max_connections=settings.store_connections, timeout=timeout)


def _list_scopes(policy: PolicyEngine) -> frozenset[tuple[Channel | None, Purpose]]:
    """The (channel, purpose) pairs that some rule on suppression lists governs, and every
    marketing contact: an erased customer's contact points are kept on a list."""
    every_channel: tuple[Channel | None, ...] = (*Channel, None)
    by_rules = frozenset(
        (channel, purpose)
        for rule in policy.rules
        if rule.requires is RequirementKind.NOT_LISTED
        for channel in rule.channels or every_channel
        for purpose in rule.purposes
    )
    return by_rules | {(channel, Purpose.MARKETING) for channel in Channel}


def _invalid_destination(detail: str) -> Reason:
    return Reason(
        rule="gate.destination_invalid",
        regime="gate",
        citation="Consent Gate: the destination must belong to the customer",
        message=f"The destination could not be read: {detail}.",
    )


def _decision_entry(
    answer: CheckAnswer, document: dict[str, Any], command: CheckCommand, actor: Actor
) -> AuditEntry:
    payload = {k: v for k, v in document.items() if k != "audit_entry_id"}
    # The destination is personal data: the log keeps only that one was given.
    payload["destination_given"] = command.destination is not None
    payload["automated"] = command.automated  # what the caller said, on which TCPA rules turned
    # The caller's claims the GLBA rules turned on (12 CFR 1016.12-15), only where it made
    # them: no key means no exception invoked and no data category named.
    if command.exception is not None:
        payload["exception"] = command.exception
    if command.data_categories:
        payload["data_categories"] = sorted(command.data_categories)
    payload["idempotency_key"] = command.idempotency_key
    return AuditEntry.new(
        at=answer.decided_at,
        actor=actor,
        action="check.decided",
        subject=f"customer:{answer.customer_id}",
        payload=payload,
    )
