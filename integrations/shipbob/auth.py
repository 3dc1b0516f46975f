"""ShipBob's credentials: a Personal Access Token, or its OAuth 2.0 sign-in (``OAUTH``: authorization
code at auth.shipbob.com, the client's id and secret in the token request's body, ``offline_access``
for a refresh token that rotates at each renewal); and the Standard Webhooks signature (``sign``)
its deliveries carry."""

from __future__ import annotations

import base64
import hashlib
import hmac

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from integrations.grants import OAuth

AUTH_URL = "https://auth.shipbob.com"
# What the connector does needs these; offline_access brings the refresh token.
SCOPES = (
    "channels_read",
    "orders_read",
    "orders_write",
    "fulfillments_read",
    "inventory_read",
    "receiving_read",
    "receiving_write",
    "webhooks_read",
    "webhooks_write",
    "offline_access",
)
OAUTH = OAuth(
    authorize_url=f"{AUTH_URL}/connect/authorize",
    token_url=f"{AUTH_URL}/connect/token",
    scopes=SCOPES,
    client_auth="body",
)


class ShipBobSecrets(BaseModel):
    """A Personal Access Token, or the OAuth app's client id and secret (then "Connect to ShipBob"
    signs in and stores the access and refresh tokens); the webhook secret either way."""

    # Declared before the token: its check reads them.
    client_id: str = Field(
        "", description='The OAuth app\'s client id: "Connect to ShipBob" signs in with it (no PAT then).'
    )
    client_secret: str = Field("", description="The OAuth app's client secret (with its client id).")
    token: str = Field(
        "",
        validate_default=True,
        description="A Personal Access Token (never expires); leave empty to sign in with the OAuth app.",
    )
    access_token: str = Field("", description="The sign-in's access token (an hour; the hub renews it).")
    refresh_token: str = Field("", description="The sign-in's refresh token (it rotates at each renewal).")
    webhook_secret: str = Field(
        min_length=1,
        description='The webhook signing secret ("whsec_" + base64); the hub subscribes with it.',
    )

    @field_validator("token")
    @classmethod
    def _token_or_app(cls, value: str, info: ValidationInfo) -> str:
        if not value.strip() and not (info.data.get("client_id") and info.data.get("client_secret")):
            raise ValueError(
                "Enter a Personal Access Token, or the OAuth app's client id and client secret to "
                "connect with ShipBob's sign-in."
            )
        return value


def sign(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks: base64 HMAC-SHA256 of "id.timestamp.body", keyed by the decoded secret."""
    key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    signed = f"{message_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
