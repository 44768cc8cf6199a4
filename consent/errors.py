"""Domain errors. Each has a stable code; the API maps codes to RFC 9457 problem types."""


class ConsentError(Exception):
    code = "consent-error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(ConsentError):
    code = "not-found"


class CustomerNotFoundError(NotFoundError):
    code = "customer-not-found"


class CheckNotFoundError(NotFoundError):
    code = "check-not-found"


class CustomerErasedError(ConsentError):
    code = "customer-erased"


class InvalidContactPointError(ConsentError):
    code = "invalid-contact-point"


class ListReservedError(ConsentError):
    """A list the gate keeps itself: no copy may replace it, no one may remove it."""

    code = "list-reserved"


class IdempotencyConflictError(ConsentError):
    """The same Idempotency-Key was used before with a different request body."""

    code = "idempotency-key-reused"


class OutcomeConflictError(ConsentError):
    code = "outcome-conflict"


class StoreUnavailableError(ConsentError):
    """The store cannot be reached or did not answer: the gate cannot decide, so it refuses."""

    code = "store-unavailable"


class SchemaAheadError(ConsentError):
    """The database was migrated by a newer release: running against it could corrupt it."""

    code = "schema-ahead"
