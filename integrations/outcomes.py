"""What an attempt to deliver came to, and how the hub reads an error of a push or a webhook send."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from integrations.errors import (
    AuthFailed,
    MissingDependency,
    NeedsAPerson,
    PermanentError,
    Throttled,
    TransientError,
)
from integrations.models import RequestLog

logger = logging.getLogger(__name__)


class Kind(Enum):
    SUCCESS = "success"
    SKIP = "skip"
    THROTTLED = "throttled"
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    AUTH = "auth"
    BLOCKED = "blocked"
    WAITING = "waiting"  # the tool runs it as a job: asked again later, not an attempt


@dataclass
class Outcome:
    kind: Kind
    message: str = ""
    wait: float = 0.0
    log: RequestLog | None = None
    remember: Callable[[], None] | None = None
    blocked_on: int | None = None  # Kind.BLOCKED: the delivery that must land first
    job_id: str = ""  # Kind.WAITING: the tool's job
    # Kind.PERMANENT for want of a person: what it waits for ({"kind": "map tax code", "value": "VAT 20%"})
    missing: dict[str, str] | None = None
    # The status the tool refused this item with, when the log is another request's (an item of a
    # batch whose last request was for another item): what the delivery shows as its last status.
    status: int | None = None


def outcome_of(exc: Exception, log: RequestLog | None = None) -> Outcome:
    """How the hub treats an error of a push or a webhook send."""
    log = log if log is not None else getattr(exc, "request_log", None)
    if isinstance(exc, Throttled):
        return Outcome(Kind.THROTTLED, f"Throttled: {exc}", wait=exc.retry_after, log=log)
    if isinstance(exc, AuthFailed):
        return Outcome(Kind.AUTH, str(exc), log=log)
    if isinstance(exc, PermanentError | NotImplementedError | NeedsAPerson | MissingDependency):
        # Deterministic (the tool refused it; a value with no mapping; a setting missing): retrying
        # the same push would fail the same way. Dead at once, with its message, for a person to
        # fix and retry.
        missing = (
            {"kind": exc.kind, "value": exc.value}
            if isinstance(exc, NeedsAPerson | MissingDependency)
            else None
        )
        status = exc.status if isinstance(exc, PermanentError) else None
        return Outcome(
            Kind.PERMANENT, str(exc) or type(exc).__name__, log=log, missing=missing, status=status
        )
    if isinstance(exc, TransientError):
        return Outcome(Kind.TRANSIENT, str(exc), log=log)
    logger.exception("Unexpected error in an outbound delivery", exc_info=exc)
    return Outcome(Kind.TRANSIENT, f"{type(exc).__name__}: {exc}", log=log)
