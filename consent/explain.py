"""Why the law would allow or deny a contact to a real customer: every rule, and why."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from consent.decide import ContactRequest, facts_for
from consent.errors import CustomerErasedError, CustomerNotFoundError
from consent.store.checks import live_contacts
from consent.store.customers import load_state
from consent.store.database import read_transaction
from consent.suppression import consult
from policy.engine import Explanation, PolicyEngine
from policy.reasons import Reason
from policy.vocabulary import Channel, DataCategory, LegalException, Purpose, Source


@dataclass(frozen=True)
class Explained:
    places: tuple[Reason, ...]  # the customer's places whose law cannot be chosen
    rules: list[Explanation]  # every rule, whether it applies, and why


def explain_contact(
    engine: Engine,
    policy: PolicyEngine,
    customer_id: str,
    *,
    channel: Channel | None,
    purpose: Purpose,
    source: Source,
    at: datetime,
    automated: bool = True,
    exception: LegalException | None = None,
    data_categories: frozenset[DataCategory] = frozenset(),
) -> Explained:
    """Read-only: the customer's current state judged by every loaded rule at ``at``."""
    with read_transaction(engine) as conn:
        state = load_state(conn, customer_id, lock=False)
        if state is None:
            raise CustomerNotFoundError(f"no customer {customer_id}")
        if state.erased:
            raise CustomerErasedError(f"customer {customer_id} was erased")
        since = min((period.subtract_from(at) for period in policy.lookbacks), default=at)
        history = live_contacts(conn, state.pk, since)
        lists = consult(conn, state, channel)
    request = ContactRequest(
        channel=channel, purpose=purpose, source=source, send_at=at, lists=lists,
        automated=automated, exception=exception, data_categories=data_categories,
    )  # fmt: skip
    facts = facts_for(state, request, history)
    return Explained(policy.place_reasons(facts), policy.explain(facts))
