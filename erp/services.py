"""Writes of the kernel: API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from erp.access import scopes_allowed, validate_scopes
from erp.exceptions import ValidationFailed
from erp.models import ApiKey, User

KEY_PREFIX = "erp"


def hash_key(raw_key: str) -> str:
    """Keys are 256-bit random tokens, so a plain SHA-256 is a safe, fast lookup hash."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    raw_key: str  # shown once, never stored


@transaction.atomic
def api_key_create(*, user: User, name: str, scopes: list[str] | None = None) -> IssuedKey:
    """Issue a key. Without scopes it gets every scope the user is allowed now."""
    name = name.strip()
    if not name:
        raise ValidationFailed("A key needs a name.", field_errors={"name": ["This field is required."]})
    allowed = scopes_allowed(user)
    if scopes is None:
        chosen = allowed
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
    )
    return IssuedKey(api_key=key, raw_key=raw)


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
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
