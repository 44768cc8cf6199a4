"""After the gate: the outcome a caller reports, and the decision as recorded.

A ``failed`` or ``cancelled`` contact gives its frequency slot back to the customer's
limits and to the duplicate rule; a ``failed`` one was still attempted, and the law's caps
on calls made go on counting it (only ``cancelled`` means never placed). A ``sent`` reported
after the decision's ``valid_until`` is recorded as late, and one reported before the
``send_at`` it was decided for as early: the rules were judged at a time the contact did
not keep (quiet hours, calling hours). Both the decision and the outcome stay in the audit
log. An outcome is final: the same report again is answered as recorded, a different one
is a conflict.
"""

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from audit.entry import Actor, AuditEntry
from audit.log import append
from consent.answers import instant
from consent.decide import ContactRequest, erased_customer, refusals_standing
from consent.errors import CheckNotFoundError, OutcomeConflictError
from consent.store import checks as check_rows
from consent.store.customers import load_state, lock_customer
from consent.store.database import read_transaction, transaction
from policy.vocabulary import Channel, Decision, Purpose, Source

RELEASING = ("failed", "cancelled")


def record_outcome(
    engine: Engine, check_id: str, outcome: str, actor: Actor, now: datetime
) -> dict[str, Any]:
    with transaction(engine) as conn:
        stored = check_rows.by_id(conn, check_id)
        if stored is None:
            raise CheckNotFoundError(f"no check {check_id}")
        if stored.customer_pk is not None:
            lock_customer(conn, stored.customer_pk)  # a released slot changes what the gate counts
            stored = check_rows.by_id(conn, check_id) or stored  # re-read under the lock
        if stored.outcome is not None:
            if stored.outcome != outcome:
                raise OutcomeConflictError(
                    f"the outcome of this check was already recorded as {stored.outcome}"
                )
            return _recorded_outcome(stored)
        if stored.decision != Decision.ALLOW or stored.dry_run:
            raise OutcomeConflictError(
                "only an allowed contact that was not a dry run has an outcome"
            )
        late = outcome == "sent" and stored.valid_until is not None and now > stored.valid_until
        release = outcome in RELEASING
        response = json.loads(stored.response)
        refusals = _refusals(conn, response, now) if outcome == "sent" else []
        document = _outcome_document(
            check_id, outcome, now, late, _early(outcome, now, stored), bool(refusals)
        )
        entry = AuditEntry.new(
            at=now,
            actor=actor,
            action="check.outcome",
            subject=f"customer:{response['customer_id']}",
            payload={**document, "slot_released": release, "refusals": refusals},
        )
        seq = append(conn, entry)
        check_rows.record_outcome(
            conn,
            check_id,
            outcome,
            now,
            late=late,
            refused=bool(refusals),
            release=release,
            audit_seq=seq,
        )
    return {**document, "audit_entry_id": seq}


def recorded_check(engine: Engine, check_id: str) -> dict[str, Any]:
    """The answer as it was sent, with its outcome once reported."""
    with read_transaction(engine) as conn:
        stored = check_rows.by_id(conn, check_id)
    if stored is None:
        raise CheckNotFoundError(f"no check {check_id}")
    return check_document(stored)


def check_document(stored: check_rows.StoredCheck) -> dict[str, Any]:
    """A stored check as ``GET /v1/checks/{id}`` shows it."""
    outcome = _recorded_outcome(stored) if stored.outcome else None
    return {**json.loads(stored.response), "audit_entry_id": stored.audit_seq, "outcome": outcome}


def _early(outcome: str, at: datetime | None, stored: check_rows.StoredCheck) -> bool:
    """Sent before the instant the decision was for (no column: send_at is stored)."""
    return outcome == "sent" and at is not None and at < stored.send_at


def _recorded_outcome(stored: check_rows.StoredCheck) -> dict[str, Any]:
    outcome = stored.outcome or ""
    early = _early(outcome, stored.outcome_at, stored)
    document = _outcome_document(
        stored.id, outcome, stored.outcome_at, stored.outcome_late, early, stored.outcome_refused
    )
    return {**document, "audit_entry_id": stored.outcome_audit_seq}


def _refusals(conn: Connection, response: dict[str, Any], now: datetime) -> list[str]:
    """The rules of the customer's own choices that stand against a contact reported sent
    now: they withdrew, objected, opted out or said STOP after it was allowed, or were
    erased. A data use (no channel) is not judged: its exception is not kept with it."""
    if response["channel"] is None:
        return []
    state = load_state(conn, response["customer_id"], lock=False)
    if state is None or state.erased:
        return [erased_customer().rule]
    request = ContactRequest(
        channel=Channel(response["channel"]),
        purpose=Purpose(response["purpose"]),
        source=Source(response["source"]),
        send_at=now,
    )
    return [reason.rule for reason in refusals_standing(state, request)]


def _outcome_document(
    check_id: str,
    outcome: str,
    at: datetime | None,
    late: bool | None,
    early: bool,
    after_refusal: bool | None,
) -> dict[str, Any]:
    return {
        "check_id": check_id,
        "outcome": outcome,
        "recorded_at": instant(at),
        "late": bool(late),
        "early": early,
        "after_refusal": bool(after_refusal),
    }
