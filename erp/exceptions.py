"""The one base class of every domain error.

Apps derive their errors from these; the API maps them once to problem details
(erp.api.errors) and the UI once to form errors and messages.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule refused the operation. Nothing was changed."""

    status_code = 409
    title = "Request conflicts with the current state"

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}
        self.extra = extra


class ValidationFailed(DomainError):
    """The input is invalid; `field_errors` names each field."""

    status_code = 422
    title = "Invalid input"


class NotFound(DomainError):
    status_code = 404
    title = "Not found"


class InvalidTransition(DomainError):
    """A document lifecycle refused to move from one state to another."""

    def __init__(self, *, document: str, current: str, target: str):
        super().__init__(
            f"A {document} cannot go from '{current}' to '{target}'.",
            current=current,
            target=target,
        )
        self.current = current
        self.target = target
