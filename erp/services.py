"""Writes of the kernel: API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from erp.access import (
    KEYS_SCOPE,
    scope_covered,
    scopes_allowed,
    scopes_grantable,
    user_has_right,
    validate_scopes,
)
from erp.exceptions import NotFound, ValidationFailed
from erp.models import ApiKey, User

KEY_PREFIX = "erp"
API_KEY_NAME_MAX = 100  # ApiKey.name's max_length


def hash_key(raw_key: str) -> str:
    """Keys are 256-bit random tokens, so a plain SHA-256 is a safe, fast lookup hash."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    raw_key: str  # shown once, never stored


def api_key_admin(user: AbstractUser | AnonymousUser) -> bool:
    """Sees and revokes every user's keys: superusers and holders of erp.manage_api_keys
    (the Integration admin role); may also give a key any rate limit, 0 (unlimited) included."""
    return user_has_right(user, "manage_api_keys")


def _rate_limit(user: User, rate_limit_per_minute: int | None) -> int:
    default = int(settings.API_RATE_LIMIT_PER_MINUTE)
    if rate_limit_per_minute is None:
        return default
    if rate_limit_per_minute < 0:
        msg = "The rate limit is a number of requests per minute, 0 or more."
        raise ValidationFailed(msg, field_errors={"rate_limit_per_minute": [msg]})
    if default and not api_key_admin(user) and not 1 <= rate_limit_per_minute <= default:
        msg = (
            f"Choose 1 to {default} requests per minute; only an API key admin may set more or 0 (unlimited)."
        )
        raise ValidationFailed(msg, field_errors={"rate_limit_per_minute": [msg]})
    return rate_limit_per_minute


@transaction.atomic
def api_key_create(
    *,
    user: User,
    name: str,
    scopes: list[str] | None = None,
    rate_limit_per_minute: int | None = None,
    parent: ApiKey | None = None,
) -> IssuedKey:
    """Issue a key. Without scopes it gets every area scope the user is allowed now (keys:write
    only when asked for).

    ``parent`` is the key that issues this one through the API: it must hold keys:write and
    still be active (its row is locked, so a concurrent revocation waits or is seen), the new
    key gets at most its scopes, and it is revoked whenever the parent is. Without a rate limit
    the key gets the default (settings.API_RATE_LIMIT_PER_MINUTE); users other than key admins
    may only lower it.
    """
    name = name.strip()
    if not name:
        raise ValidationFailed("A key needs a name.", field_errors={"name": ["This field is required."]})
    allowed = scopes_grantable(user)
    if parent is not None:
        parent = ApiKey.objects.select_for_update().get(pk=parent.pk)
        if parent.revoked_at is not None or KEYS_SCOPE not in parent.scopes:
            raise PermissionDenied(f"Scope '{KEYS_SCOPE}' is required to create API keys with an API key.")
        allowed = [s for s in allowed if scope_covered(parent.scopes, s)]
    if scopes is None:
        chosen = [s for s in scopes_allowed(user) if s in allowed]
    else:
        try:
            chosen = validate_scopes(scopes)
        except ValueError as exc:
            raise ValidationFailed(str(exc), field_errors={"scopes": [str(exc)]}) from exc
        beyond = [s for s in chosen if s not in allowed]
        if beyond:
            msg = f"{user} may not grant: {', '.join(beyond)}."
            raise ValidationFailed(msg, field_errors={"scopes": [msg]})
    if not chosen:
        msg = f"{user} has no rights to delegate to a key; give them a role first."
        raise ValidationFailed(msg, field_errors={"scopes": [msg]})
    rate_limit = _rate_limit(user, rate_limit_per_minute)
    if len(name) > API_KEY_NAME_MAX:
        msg = f"A key's name has at most {API_KEY_NAME_MAX} characters."
        raise ValidationFailed(msg, field_errors={"name": [msg]})
    if ApiKey.objects.filter(user=user, name=name).exists():
        msg = f"You already have a key named '{name}'."
        raise ValidationFailed(msg, field_errors={"name": [msg]})
    prefix = secrets.token_hex(4)
    raw = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        user=user,
        name=name,
        prefix=f"{KEY_PREFIX}_{prefix}",
        hashed_key=hash_key(raw),
        scopes=chosen,
        rate_limit_per_minute=rate_limit,
        parent=parent,
    )
    return IssuedKey(api_key=key, raw_key=raw)


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, by: User | None = None) -> ApiKey:
    """Revoke a key and every key created with it through the API (again is a no-op). ``by``,
    when given, must own it or be a key admin; otherwise the key is reported as not found, as
    it is to them."""
    if by is not None and api_key.user_id != by.pk and not api_key_admin(by):
        raise NotFound(f"No API key {api_key.pk}.")
    locked = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    moment = timezone.now()
    if locked.revoked_at is None:
        locked.revoked_at = moment
        locked.save(update_fields=["revoked_at", "updated_at"])
    # A key created with this one through the API dies with it, and so do their own children.
    parents = [locked.pk]
    while parents:
        children = list(
            ApiKey.objects.select_for_update()
            .filter(parent_id__in=parents, revoked_at__isnull=True)
            .order_by("pk")
        )
        for child in children:
            child.revoked_at = moment
            child.save(update_fields=["revoked_at", "updated_at"])
        parents = [child.pk for child in children]
    api_key.revoked_at, api_key.updated_at = locked.revoked_at, locked.updated_at
    return api_key


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The active key for this token, with its user, or None. Records last use (throttled)."""
    if not raw_key.startswith(f"{KEY_PREFIX}_"):
        return None
    key = (
        ApiKey.objects.select_related("user")
        .filter(hashed_key=hash_key(raw_key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if key is None:
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        # One cheap UPDATE at most once a minute per key, outside any history.
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
