"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with key rotation.

FIELD_ENCRYPTION_KEY holds one or more comma-separated Fernet keys: the first
encrypts, every one decrypts, so a key is rotated by putting the new one first
and re-encrypting (``rotate``). In development, with the variable unset, a key
is derived from SECRET_KEY; settings refuse that when DEBUG is off.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(ValueError):
    pass


def _keys() -> list[bytes]:
    configured = [k.strip() for k in settings.FIELD_ENCRYPTION_KEY.split(",") if k.strip()]
    if configured:
        return [k.encode() for k in configured]
    derived = hashlib.sha256(f"field-encryption:{settings.SECRET_KEY}".encode()).digest()
    return [base64.urlsafe_b64encode(derived)]


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in _keys()])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("The secret cannot be decrypted with FIELD_ENCRYPTION_KEY.") from exc


def rotate(token: str) -> str:
    """Re-encrypt with the first (newest) key."""
    return _fernet().rotate(token.encode()).decode()
