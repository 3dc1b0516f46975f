"""Shopify's credentials: the static token, the app's sign-in, and expiring offline tokens refreshed.

* Auth: ``X-Shopify-Access-Token`` on every Admin API request.
* A static token (a custom app's or a merchant-created app's ``shpat_…``, entered in the form; the
  tests' and the ``make run`` demo's): it never expires, no refresh token is stored, and
  ``refresh_token`` answers None without a call, so a 401 means the app was uninstalled or the token
  revoked (the connection needs re-authorisation).
* Sign-in ("Connect to Shopify", with the app's client id and secret): OAuth's authorization code
  grant at the shop, ``/admin/oauth/authorize?client_id=&scope=&redirect_uri=&state=`` (scopes
  comma-separated; no ``grant_options[]``: an offline token), then ``POST /admin/oauth/access_token``
  with client_id, client_secret, code and ``expiring=1`` in the body -> an *expiring* offline token
  (changelog 2025-12-10; required of public apps from 2027-01-01, when Shopify refuses their
  non-expiring ones): ``{"access_token", "expires_in": 3600, "refresh_token",
  "refresh_token_expires_in", "scope"}``. The callback also carries ``hmac``, ``shop``, ``host`` and
  ``timestamp``: ``exchange_code`` refuses one whose hmac (hex HMAC-SHA256 of the other parameters,
  sorted, keyed with the client secret) does not match, whose shop is not this connection's, or
  whose timestamp is stale, before the code is sent anywhere.
* Refresh: ``POST /admin/oauth/access_token`` with client_id, client_secret,
  ``grant_type=refresh_token`` and the refresh token -> the same shape, with a NEW refresh token
  (it rotates: the grant replaces the stored one). Since 2026-08-28 the previous refresh token stays
  good until the app first uses the new access token, so a refresh whose answer was lost (a
  timeout) is simply asked again with the stored one. The hub calls it single-flight shortly before
  the access token's hour is up and on a 401 (``integrations.tokens``). A refresh Shopify refuses
  (400 ``invalid_grant``, or 401: the refresh token expired or was revoked, the app uninstalled)
  leaves the connection needing sign-in again ("Re-authorise").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from integrations.contract import Connector, OAuth, TokenGrant
from integrations.errors import PermanentError, TransientError

# What the connector does needs these (a write_ scope includes its read_): orders and products in
# (and their webhooks), inventory levels set and read at the location, fulfilments through the
# fulfilment orders of the orders the merchant fulfils.
SCOPES = (
    "read_orders",
    "read_products",
    "write_inventory",
    "read_locations",
    "write_merchant_managed_fulfillment_orders",
)
# A sign-in's callback older than this (or this far ahead) is refused, whatever its hmac says.
CALLBACK_MAX_AGE = 600  # seconds

# Relative to base_url() (…/admin/api/{version}): the shop's /admin/oauth/…, kept under the
# base_url setting's path too (the demo's fake is served under /integrations/fake-shopify/).
OAUTH = OAuth(
    authorize_url="../oauth/authorize",
    token_url="../oauth/access_token",
    scopes=SCOPES,
    scope_separator=",",
    client_auth="body",
)


class ShopifySecrets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Declared first: the access token's check reads it.
    client_id: str = Field(
        default="", description='The app\'s client id (API key): "Connect to Shopify" signs in with it.'
    )
    access_token: str = Field(
        default="",
        validate_default=True,
        description="The Admin API access token (shpat_…); none with a client id: the sign-in gives it.",
    )
    client_secret: str = Field(min_length=1, description="The app's client secret; signs webhooks.")
    refresh_token: str = Field(
        default="",
        description="Renews an expiring access token; the sign-in gives it (none with a static token).",
    )

    @field_validator("access_token")
    @classmethod
    def _token_or_sign_in(cls, value: str, info: ValidationInfo) -> str:
        if not value and not info.data.get("client_id"):
            raise ValueError(
                "Enter the Admin API access token, or the app's client id to connect with Shopify's sign-in."
            )
        return value


def callback_hmac(secret: str, params: Mapping[str, str]) -> str:
    """The hmac Shopify puts on an OAuth callback: hex HMAC-SHA256(client secret, the parameters
    but ``hmac`` and ``signature``, each ``key=value`` with ``%``, ``&`` and ``=`` escaped, sorted,
    joined with ``&``)."""

    def pair(key: str, value: str) -> str:
        key = key.replace("%", "%25").replace("=", "%3D")
        return f"{key}={value.replace('%', '%25')}".replace("&", "%26")

    message = "&".join(sorted(pair(k, str(v)) for k, v in params.items() if k not in ("hmac", "signature")))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def refusal(exc: PermanentError) -> str:
    """What Shopify's token endpoint said when it refused (``error: error_description``)."""
    try:
        body = json.loads(exc.body or "")
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("error"):
        why = str(body["error"])
        description = body.get("error_description")
        return f"{why}: {description}" if description else why
    return f"HTTP {exc.status}"


class ShopifyAuth(Connector):
    """The credentials part of ``ShopifyConnector``: its headers, its sign-in and its refresh."""

    oauth = OAUTH

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        return {"X-Shopify-Access-Token": str(secrets.get("access_token", ""))}

    def exchange_code(
        self, code: str, redirect_uri: str, callback: Mapping[str, str] | None = None
    ) -> TokenGrant:
        """Check the callback is Shopify's, for this shop and fresh, then trade the code for an
        expiring offline token (``expiring=1``): the access token, its hour, the refresh token and
        when that runs out."""
        params = {str(k): str(v) for k, v in (callback or {}).items()}
        secret = str(self.connection.get_secrets().get("client_secret") or "")
        received = params.get("hmac", "").strip().lower()
        if (
            not secret
            or not received
            or not hmac.compare_digest(callback_hmac(secret, params).encode(), received.encode())
        ):
            raise PermanentError(
                "the callback's signature (hmac) does not match the app's client secret, so it may "
                "not be Shopify's.",
                status=None,
            )
        shop = params.get("shop", "").strip().lower()
        if shop != self.account_id():
            raise PermanentError(
                f"the callback is for the shop {shop or '(none named)'}, not this connection's "
                f"{self.account_id()}.",
                status=None,
            )
        try:
            age = time.time() - int(params.get("timestamp", ""))
        except ValueError:
            age = float("inf")
        if not -CALLBACK_MAX_AGE <= age <= CALLBACK_MAX_AGE:
            raise PermanentError(
                "the callback's timestamp is missing or more than "
                f"{CALLBACK_MAX_AGE // 60} minutes off: start the sign-in again.",
                status=None,
            )
        response = self._token_call(self.connection.get_secrets(), {"code": code, "expiring": "1"})
        try:
            return OAUTH.grant(response.json())
        except (ValueError, TypeError, AttributeError) as exc:
            raise PermanentError(f"The token endpoint's answer cannot be read: {exc}") from exc

    def refresh_token(self, secrets: Mapping[str, Any]) -> TokenGrant | None:
        """A new access token for the stored refresh token (which rotates: the grant carries the
        new one). None without a refresh token: a static token, never refreshed."""
        refresh = str(secrets.get("refresh_token") or "")
        if not refresh:
            return None
        try:
            response = self._token_call(secrets, {"grant_type": "refresh_token", "refresh_token": refresh})
        except PermanentError as exc:
            if exc.status not in (400, 401):
                raise
            raise PermanentError(
                f"Shopify refused the refresh token ({refusal(exc)}): it has expired or was revoked, "
                'or the app was uninstalled. Sign in again with "Re-authorise" on the connection\'s page.',
                status=exc.status,
                body=exc.body,
            ) from exc
        try:
            return OAUTH.grant(response.json())
        except (ValueError, TypeError, AttributeError) as exc:
            # The stored refresh token stays good until the new access token is used: ask again later.
            raise TransientError(f"Shopify's token refresh answer cannot be read: {exc}") from exc

    def _token_call(self, secrets: Mapping[str, Any], form: Mapping[str, str]) -> httpx.Response:
        """POST /admin/oauth/access_token: ``form`` plus the app's client id and secret, in the body."""
        data, headers = OAUTH.token_request(secrets, form)
        return self.http.request("POST", OAUTH.url(OAUTH.token_url, self.base_url()), data=data, auth=headers)
