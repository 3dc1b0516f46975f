"""HubSpot's credentials and webhook signatures.

* A private app's access token never expires: it is sent as a Bearer token and nothing refreshes it.
* An OAuth app's sign-in ("Connect to HubSpot") gives a refresh token and 30-minute access tokens;
  the token endpoint (``POST /oauth/v1/token`` on the API's own host) takes the app's client id and
  secret in the form body, not as HTTP Basic. HubSpot's refresh token does not rotate.
* Webhooks are signed v3: base64 of HMAC-SHA256, keyed by the app's client secret, over the method,
  the URI HubSpot called, the raw body and the ``X-HubSpot-Request-Timestamp`` (milliseconds). A
  timestamp more than five minutes away from when the delivery arrived is a replay and is refused.
  HubSpot signs the URI with some percent-escapes decoded (its docs list them), so the URI is
  decoded the same way before it is signed here.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import re

import httpx
from pydantic import BaseModel, Field

from integrations.grants import OAuth

API_ROOT = "https://api.hubapi.com"
AUTHORIZE_URL = "https://app.hubspot.com/oauth/authorize"
TOKEN_PATH = "/oauth/v1/token"
AUTHORIZE_PATH = httpx.URL(AUTHORIZE_URL).path
SCOPES = (
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
)
# The token URL is relative: joined to the connection's base URL, it is HubSpot's API host, or a
# local fake's when the connection points at one.
OAUTH = OAuth(authorize_url=AUTHORIZE_URL, token_url=TOKEN_PATH, scopes=SCOPES, client_auth="body")

SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
SIGNATURE_TOLERANCE = datetime.timedelta(minutes=5)
# The escapes HubSpot decodes in the URI before signing it (its request-validation guide).
DECODED_ESCAPES = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_ESCAPE = re.compile("|".join(DECODED_ESCAPES), re.IGNORECASE)


class HubSpotSecrets(BaseModel):
    """A private app's token, or an OAuth app's client and the tokens its sign-in gives. The
    client secret is also the key of every webhook signature (webhooks are the app's)."""

    access_token: str = Field(
        "", description="A private app's access token, or the sign-in's (30 minutes; the hub renews it)."
    )
    client_id: str = Field("", description="The OAuth app's client id.")
    client_secret: str = Field(
        "", description="The app's client secret: it signs the webhooks (and the OAuth token calls)."
    )
    refresh_token: str = Field("", description="The sign-in's refresh token (OAuth apps only).")


def token_url(base_url: str) -> str:
    return str(httpx.URL(base_url).join(TOKEN_PATH))


def authorize_url(base_url: str) -> str:
    """HubSpot's consent page; for a connection pointed at a local fake, the fake's (same path)."""
    if base_url.rstrip("/") == API_ROOT:
        return AUTHORIZE_URL
    return str(httpx.URL(base_url).join(AUTHORIZE_PATH))


def signed_uri(url: str) -> str:
    """The URI as HubSpot signs it: the escapes it lists decoded, everything else as called."""
    return _ESCAPE.sub(lambda match: DECODED_ESCAPES[match.group(0).upper()], url)


def signature_v3(secret: str, method: str, url: str, body: bytes, timestamp: str) -> str:
    message = method.upper().encode() + signed_uri(url).encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def verify_v3(
    secret: str,
    *,
    method: str,
    url: str,
    body: bytes,
    timestamp: str,
    signature: str,
    received_at: datetime.datetime,
) -> bool:
    """Whether the v3 signature is the app's and fresh: refused without a secret, a signature or a
    numeric timestamp, and when the timestamp is more than five minutes from the arrival (an old
    delivery replayed, or a clock far off). Compared in constant time."""
    if not (secret and signature and timestamp.isdigit()):
        return False
    sent = datetime.datetime.fromtimestamp(int(timestamp) / 1000, tz=datetime.UTC)
    if abs(received_at - sent) > SIGNATURE_TOLERANCE:
        return False
    expected = signature_v3(secret, method, url, body, timestamp)
    return hmac.compare_digest(expected.encode(), signature.encode())
