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

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security.http import HttpBearer
from ninja.utils import check_csrf

from erp import idempotency, ratelimit
from erp.access import (
    AREAS,
    RIGHT_SCOPES,
    SPECIAL_RIGHTS,
    Level,
    scope_covered,
    scope_grants,
    scopes_grantable,
    user_can,
    user_has_right,
)
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

    def has_right(self, right: str) -> bool:
        """A special right of the user (erp.access.SPECIAL_RIGHTS); a key needs its scope too."""
        if not user_has_right(self.user, right):
            return False
        return self.api_key is None or scope_covered(self.api_key.scopes, RIGHT_SCOPES[right])

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


MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _load_permissions(user: User) -> None:
    """Read the user's permissions in ONE query, for the scope check of every request (Django's
    ModelBackend reads them in two: the user's own, then its groups'). Only where ModelBackend is
    the one backend (the default), filling the cache it reads; a superuser needs none."""
    if not user.is_active or user.is_superuser or hasattr(user, "_perm_cache"):
        return
    if list(settings.AUTHENTICATION_BACKENDS) != [MODEL_BACKEND]:
        return
    rows = (
        Permission.objects.filter(Q(user=user) | Q(group__user=user))
        .values_list("content_type__app_label", "codename")
        .distinct()
    )
    user._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}  # type: ignore[attr-defined]


class Forbidden(HttpError):
    def __init__(self, message: str) -> None:
        super().__init__(403, message)


class ErpAuth(HttpBearer):
    """API key (``Authorization: Bearer <key>``) or browser session with CSRF.

    With an area, also checks the scope: GET/HEAD/OPTIONS need read, the rest write. With a
    ``right`` (one of erp.access.RIGHT_SCOPES: an operation such as issuing an invoice), a write is
    also allowed to whoever holds that right and its scope without the area's write.
    """

    def __init__(self, area: str | None = None, *, right: str | None = None) -> None:
        if area is not None and area not in AREAS:
            raise ValueError(f"Unknown area {area!r}")
        if right is not None and (right not in SPECIAL_RIGHTS or right not in RIGHT_SCOPES):
            raise ValueError(f"Unknown right {right!r}")
        self.area = area
        self.right = right
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
        _load_permissions(principal.user)
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
        if principal.can(self.area, level):
            return
        if level == "write" and self.right is not None and principal.has_right(self.right):
            return
        via = "this API key" if principal.api_key else "your account"
        needed = f"'{self.area}:{level}'"
        if level == "write" and self.right is not None:
            needed += f" or '{RIGHT_SCOPES[self.right]}'"
        raise Forbidden(f"Scope {needed} is required; {via} does not have it.")
