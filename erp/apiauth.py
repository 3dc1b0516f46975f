"""API authentication: an API key (``Authorization: Bearer <key>``) or a browser session.

A router declares its area (``auth=ErpAuth("sales")``); reads need
``<area>:read`` and writes ``<area>:write``, whichever way the caller came in.

Once the caller is known, in this order: a request made with an API key is counted
against the key's rate limit (erp.ratelimit; 429 over it), the scope is checked
(403), and an ``Idempotency-Key`` is claimed for the caller (erp.idempotency). So a
request refused by authentication, rate limit or scope leaves no idempotency record.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security.http import HttpBearer
from ninja.utils import check_csrf

from erp import idempotency, ratelimit
from erp.access import AREAS, Level, scope_grants, scopes_grantable, user_can
from erp.models import ApiKey, User
from erp.services import api_key_authenticate

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, through a session or one of their API keys."""

    user: User
    api_key: ApiKey | None = None

    def can(self, area: str, level: Level) -> bool:
        if not user_can(self.user, area, level):
            return False
        return self.api_key is None or scope_grants(self.api_key.scopes, area, level)

    @property
    def idempotency_scope(self) -> str:
        """Whose Idempotency-Keys these are: the API key's, else the user's."""
        return idempotency.principal_of(self.user.pk, self.api_key.pk if self.api_key else None)

    @property
    def scopes(self) -> list[str]:
        allowed = scopes_grantable(self.user)
        if self.api_key is None:
            return allowed
        return [s for s in allowed if s in self.api_key.scopes]


class Forbidden(HttpError):
    def __init__(self, message: str) -> None:
        super().__init__(403, message)


class ErpAuth(HttpBearer):
    """API key (``Authorization: Bearer <key>``) or browser session with CSRF.

    With an area, also checks the scope: GET/HEAD/OPTIONS need read, the rest write.
    """

    def __init__(self, area: str | None = None) -> None:
        if area is not None and area not in AREAS:
            raise ValueError(f"Unknown area {area!r}")
        self.area = area
        super().__init__()

    def __call__(self, request: HttpRequest) -> Principal | None:
        header = request.headers.get("Authorization")
        principal: Principal | None
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None
            principal = self.authenticate(request, token.strip())
        else:
            principal = self._session_principal(request)
        if principal is None:
            return None
        if principal.api_key is not None:
            # The key acts as its owner: the change history (erp.history) records both.
            request.user = principal.user
            setattr(request, "api_key", principal.api_key)  # noqa: B010  (read by erp.history)
            ratelimit.enforce(request, principal.api_key)
        self._check_scope(request, principal)
        idempotency.begin(request, principal=principal.idempotency_scope)
        return principal

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        key = api_key_authenticate(token)
        return Principal(user=key.user, api_key=key) if key else None

    def _session_principal(self, request: HttpRequest) -> Principal | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise Forbidden("CSRF verification failed: send the X-CSRFToken header.")
        return Principal(user=user)

    def _check_scope(self, request: HttpRequest, principal: Principal) -> None:
        if self.area is None:
            return
        level: Level = "read" if request.method in SAFE_METHODS else "write"
        if not principal.can(self.area, level):
            via = "this API key" if principal.api_key else "your account"
            raise Forbidden(f"Scope '{self.area}:{level}' is required; {via} does not have it.")
