"""A tool's OAuth 2.0 sign-in as the contract declares it (``Connector.oauth``: ``OAuth``) and what a
token endpoint answers (``TokenGrant``). Part of the contract (``integrations.contract`` re-exports
both); the hub's sign-in flow is ``integrations.oauth``, its refreshes ``integrations.tokens``."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class TokenGrant:
    secrets: Mapping[str, Any]  # the secrets to store after a refresh
    expires_at: datetime.datetime | None
    # When the refresh token runs out (QuickBooks' ``x_refresh_token_expires_in``): the connection
    # must be signed in again before then. None: the tool did not say (the stored date is kept).
    refresh_expires_at: datetime.datetime | None = None
    # Settings the sign-in teaches (QuickBooks names the company, realmId, on the callback):
    # merged into the connection's settings with the tokens.
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OAuth:
    """A tool's OAuth 2.0 authorization-code sign-in (``Connector.oauth``).

    The URLs are absolute, or relative to the connection's ``base_url()`` (joined as a browser
    would: "/oauth2/token" is on the API's host), so a connection pointed at a local fake signs in
    there too. The token URL's host must be one of the connector's ``hosts()``: the client secret
    goes nowhere else. The app's client id and secret are secrets of the connection, under the
    names given here.
    """

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...] = ()
    client_id_secret: str = "client_id"
    client_secret_secret: str = "client_secret"
    # Added to the consent page's query (Google's access_type=offline, prompt=consent).
    extra_params: Mapping[str, str] = field(default_factory=dict)
    scope_separator: str = " "
    # How the token endpoint is told who the app is: HTTP Basic (QuickBooks, the RFC's preference)
    # or client_id and client_secret in the form body (Amazon's LWA).
    client_auth: str = "basic"  # "basic" | "body"

    def url(self, url: str, base_url: str) -> str:
        """``authorize_url`` or ``token_url`` for a connection whose API lives at ``base_url``."""
        return str(httpx.URL(base_url).join(url))

    def client(self, secrets: Mapping[str, Any]) -> tuple[str, str]:
        """The app's client id and secret, from the connection's secrets ("" when missing)."""
        return (
            str(secrets.get(self.client_id_secret) or ""),
            str(secrets.get(self.client_secret_secret) or ""),
        )

    def token_request(
        self, secrets: Mapping[str, Any], form: Mapping[str, str]
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The form body and the headers of a call to the token endpoint: ``form`` plus the client's
        credentials the way the tool takes them."""
        client_id, client_secret = self.client(secrets)
        if self.client_auth == "body":
            return {**form, "client_id": client_id, "client_secret": client_secret}, {}
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        return dict(form), {"Authorization": f"Basic {basic}", "Accept": "application/json"}

    def grant(self, body: Mapping[str, Any], now: datetime.datetime | None = None) -> TokenGrant:
        """A token endpoint's answer as a grant: the access token, the refresh token when one is given
        (a rotated one replaces the stored one), and when each runs out, by the hub's clock
        (``django.utils.timezone.now``, which the simulated day moves) unless ``now`` is given."""
        if now is None:
            from django.utils import timezone

            now = timezone.now()
        access = body.get("access_token")
        if not access:
            raise ValueError("The token endpoint's answer has no access_token.")
        secrets = {"access_token": str(access)}
        if body.get("refresh_token"):
            secrets["refresh_token"] = str(body["refresh_token"])
        expires_in = body.get("expires_in")
        refresh_in = body.get("x_refresh_token_expires_in") or body.get("refresh_token_expires_in")
        return TokenGrant(
            secrets=secrets,
            expires_at=now + datetime.timedelta(seconds=int(expires_in)) if expires_in else None,
            refresh_expires_at=now + datetime.timedelta(seconds=int(refresh_in)) if refresh_in else None,
        )
