"""API authentication: an API key (``Authorization: Bearer <key>``) or a browser session.

A router declares its area (``auth=ErpAuth("sales")``); reads need
``<area>:read`` and writes ``<area>:write``, whichever way the caller came in.

An API key is looked up in the database at most once every ``KEY_CACHE_SECONDS`` (5; the
setting ``API_KEY_CACHE_SECONDS`` when there is one, 0 to turn it off) per key and process
(``KeyCache``): the key and its owner as read then are reused meanwhile, as fresh copies for each
request. A key revoked or changed (or its owner changed) in this process is forgotten at once (its
``post_save``/``post_delete``); in another process it takes effect within those seconds. The
owner's permissions are read by every request, as before.

Once the caller is known, in this order: a request made with an API key is counted
against the key's rate limit (erp.ratelimit; 429 over it), the scope is checked
(403), and an ``Idempotency-Key`` is claimed for the caller (erp.idempotency). So a
request refused by authentication, rate limit or scope leaves no idempotency record.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
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
from erp.services import api_key_authenticate, hash_key

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


# How long another process may still accept a key revoked elsewhere; settings.API_KEY_CACHE_SECONDS
# when set (0: no cache, every request reads its key).
KEY_CACHE_SECONDS = 5.0
KEY_CACHE_SIZE = 1024  # keys kept per process at most (the oldest are dropped beyond)


def cache_seconds() -> float:
    return float(getattr(settings, "API_KEY_CACHE_SECONDS", KEY_CACHE_SECONDS))


def _monotonic() -> float:
    """The cache's clock (a function so that tests can move it)."""
    return time.monotonic()


class KeyCache:
    """The API keys this process authenticated lately, by their hash: (read at, key with its user).

    Each hit answers copies of the key and its user, so that nothing a request sets on them (its
    permission cache, ``request.user``'s attributes) reaches another request or thread. Only keys
    that authenticated are kept: an unknown or revoked key is looked up every time.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, ApiKey]] = {}
        self._lock = threading.Lock()

    def get(self, hashed: str) -> ApiKey | None:
        entry = self._entries.get(hashed)
        if entry is None:
            return None
        read_at, key = entry
        if _monotonic() - read_at >= cache_seconds():
            with self._lock:
                if self._entries.get(hashed) is entry:
                    del self._entries[hashed]
            return None
        return _copied(key)

    def put(self, hashed: str, key: ApiKey) -> None:
        kept = _copied(key)
        with self._lock:
            if len(self._entries) >= KEY_CACHE_SIZE:
                for oldest in list(self._entries)[: KEY_CACHE_SIZE // 4]:
                    del self._entries[oldest]
            self._entries[hashed] = (_monotonic(), kept)

    def forget(self, *, key_id: int | None = None, user_id: int | None = None) -> None:
        with self._lock:
            for hashed, (_, key) in list(self._entries.items()):
                if key.pk == key_id or key.user_id == user_id:
                    del self._entries[hashed]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _copied(key: ApiKey) -> ApiKey:
    """A copy of the key and of its user that shares nothing mutable with them (``scopes``)."""
    fresh, user = _copy_row(key), _copy_row(key.user)
    fresh.user = user
    return fresh


def _copy_row(row: Any) -> Any:
    clone = copy.copy(row)  # Model.__getstate__: its own _state and cache of related rows
    for name, value in vars(clone).items():
        if isinstance(value, list | dict) and not name.startswith("_"):
            setattr(clone, name, copy.deepcopy(value))
    return clone


key_cache = KeyCache()


def _key_changed(sender: Any, instance: ApiKey, **kwargs: Any) -> None:
    key_cache.forget(key_id=instance.pk)


def _user_changed(sender: Any, instance: User, **kwargs: Any) -> None:
    key_cache.forget(user_id=instance.pk)


for _name, _signal in (("saved", post_save), ("deleted", post_delete)):
    _signal.connect(_key_changed, sender=ApiKey, dispatch_uid=f"erp.apiauth.key_{_name}")
    _signal.connect(_user_changed, sender=User, dispatch_uid=f"erp.apiauth.user_{_name}")


def authenticate_key(token: str) -> ApiKey | None:
    """The active key of this token with its user (``api_key_authenticate``), read from the
    database at most once every ``KEY_CACHE_SECONDS`` per process."""
    if cache_seconds() <= 0:
        return api_key_authenticate(token)
    hashed = hash_key(token)
    key = key_cache.get(hashed)
    if key is not None:
        return key
    key = api_key_authenticate(token)
    if key is not None:
        key_cache.put(hashed, key)
    return key


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
        key = authenticate_key(token)
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
