"""QuickBooks Online's credentials and hosts: the OAuth 2.0 sign-in (``OAUTH``: the consent page at
appcenter.intuit.com, the token endpoint at oauth.platform.intuit.com with the app's client id and
secret as HTTP Basic, the accounting scope), the connection's secrets, where the API lives for an
environment, and the webhook signature (``sign``: base64 HMAC-SHA256 of the raw body keyed by the
app's verifier token)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import httpx
from pydantic import BaseModel, Field

from integrations.grants import OAuth

API_HOSTS = {
    "production": "https://quickbooks.api.intuit.com/v3",
    "sandbox": "https://sandbox-quickbooks.api.intuit.com/v3",
}
AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
TOKEN_PATH = httpx.URL(TOKEN_URL).path
AUTHORIZE_PATH = httpx.URL(AUTHORIZE_URL).path
SCOPE = "com.intuit.quickbooks.accounting"
OAUTH = OAuth(authorize_url=AUTHORIZE_URL, token_url=TOKEN_URL, scopes=(SCOPE,), client_auth="basic")
INTUIT_HOSTS = frozenset({httpx.URL(TOKEN_URL).host, httpx.URL(AUTHORIZE_URL).host})


class QuickBooksSecrets(BaseModel):
    """The app's client id and secret and its webhook verifier token (Intuit's developer portal);
    the tokens the sign-in gives ("Connect to QuickBooks Online" stores them)."""

    client_id: str = Field("", description="The Intuit app's client id (Keys & credentials).")
    client_secret: str = Field("", description="The Intuit app's client secret.")
    verifier_token: str = Field(
        "", description="The app's webhook verifier token: the key of the intuit-signature header."
    )
    access_token: str = Field("", description="The sign-in's access token (an hour; the hub renews it).")
    refresh_token: str = Field(
        "", description="The sign-in's refresh token (about 100 days; it rotates: the newest is kept)."
    )


def api_root(environment: str, base_url: str = "") -> str:
    """The API's root (``.../v3``) for an environment, or the override (a local fake)."""
    return (base_url or API_HOSTS.get(environment, API_HOSTS["production"])).rstrip("/")


def token_url(base_url: str) -> str:
    """Intuit's token endpoint; on a connection pointed at a local fake, the fake's (same path)."""
    if not base_url:
        return TOKEN_URL
    return str(httpx.URL(base_url).join(TOKEN_PATH))


def authorize_url(base_url: str) -> str:
    """Intuit's consent page; on a connection pointed at a local fake, the fake's (same path)."""
    if not base_url:
        return AUTHORIZE_URL
    return str(httpx.URL(base_url).join(AUTHORIZE_PATH))


def sign(verifier_token: str, body: bytes) -> str:
    """``intuit-signature``: base64 of HMAC-SHA256 of the raw body keyed by the verifier token."""
    return base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()
