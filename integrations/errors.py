"""What can go wrong between the hub and a tool, in terms the hub acts on.

Connectors and the HTTP client raise these; the hub decides from the class
alone whether to retry, wait, quarantine, or ask a person to re-authorise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from erp.exceptions import DomainError

if TYPE_CHECKING:
    from integrations.models import RequestLog


class HubError(DomainError):
    """Base of the hub's errors."""

    title = "Integration error"
    status_code = 502
    # The log row of the request that failed, when there was one (integrations.http.carrying).
    request_log: RequestLog | None = None


class InvalidSignature(HubError):
    title = "Invalid webhook signature"
    status_code = 401


class Throttled(HubError):
    """The tool asked us to slow down. Not a failure: the work waits and is retried, not counted."""

    title = "Rate limited by the tool"
    status_code = 429

    def __init__(self, message: str = "Rate limited.", *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = max(0.0, retry_after)


class TransientError(HubError):
    """A timeout, a connection error or a 5xx: retry with backoff."""

    title = "Temporary failure talking to the tool"


class CountMoved(TransientError):
    """A compare-and-set push found the tool's count changed since our last push: the tool sold
    (or someone counted) what the hub may not have imported yet. Overwriting it would erase that
    sale, so the hub first pulls the tool's recent orders, then pushes against ``current``."""

    title = "The tool's count moved since the last push"

    def __init__(self, message: str, *, current: int | None) -> None:
        super().__init__(message)
        self.current = current


class PermanentError(HubError):
    """The tool refused the request (a 4xx other than 401/429): retrying the same request won't help."""

    title = "The tool refused the request"

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class UndeclaredHost(PermanentError):
    """A request to a host the connector does not declare: never sent, so no credential leaks."""

    title = "Not a host of this tool"


class AuthFailed(HubError):
    """Credentials are rejected and cannot be refreshed: the connection needs re-authorisation."""

    title = "Authorisation failed"
    status_code = 502


class NeedsAPerson(HubError):
    """The same input fails the same way every time (totals that do not add up, a connection not
    configured for it): retrying is pointless. The event goes to the quarantine at once, grouped
    by ``kind`` and ``value``, until a person fixes the cause and replays it."""

    status_code = 422
    kind = "a person"

    def __init__(self, message: str, *, value: str = "") -> None:
        super().__init__(message)
        self.value = value


class UntrustedUrl(NeedsAPerson):
    """A thin event names a URL on a host the connector does not declare: it is not followed."""

    title = "A URL on a host that is not the tool's"
    kind = "URL host"


class MissingDependency(HubError):
    """An inbound record refers to something the hub cannot map yet (an unknown SKU).

    The event is quarantined until a person provides the mapping and replays it.
    """

    title = "Missing dependency"
    status_code = 422

    def __init__(self, message: str, *, kind: str, value: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.value = value


class StaleVersion(TransientError):
    """An update carried a version of the record the tool no longer has (QuickBooks fault 5010:
    somebody changed it there since we last read it). The hub re-reads the version
    (``Connector.read_version`` unless ``current`` says it), re-resolves the item and pushes once
    more; a second conflict is retried later like any transient failure."""

    title = "The tool's copy changed since we last read it"

    def __init__(self, message: str, *, external_id: str, current: str | None = None) -> None:
        super().__init__(message)
        self.external_id = external_id
        self.current = current


class AlreadyExists(HubError):
    """The tool has the record already (QuickBooks fault 6240, a duplicate name; a 409 naming the
    existing id): the hub links ours to it instead of failing, and the push counts as done.

    The hub then records the item as what the tool has: a connector raises this only once the
    tool's record says what the item says (a customer's name is the name; a 3PL's order created
    by an earlier, lost attempt is brought up to date first, say put on hold)."""

    title = "The tool has it already"
    status_code = 409

    def __init__(self, message: str, *, external_id: str, version: str = "") -> None:
        super().__init__(message)
        self.external_id = external_id
        self.version = version
