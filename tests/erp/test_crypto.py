from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from erp.crypto import DecryptionError, decrypt, encrypt, rotate


def test_round_trip_and_ciphertext_hides_the_secret():
    token = encrypt("shpat_abc123")
    assert "shpat_abc123" not in token
    assert decrypt(token) == "shpat_abc123"


def test_rotation_keeps_old_secrets_readable():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEY=old):
        token = encrypt("secret")
    with override_settings(FIELD_ENCRYPTION_KEY=f"{new},{old}"):
        assert decrypt(token) == "secret"
        rotated = rotate(token)
    with override_settings(FIELD_ENCRYPTION_KEY=new):
        assert decrypt(rotated) == "secret"
        with pytest.raises(DecryptionError):
            decrypt(token)
