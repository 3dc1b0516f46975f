"""The fake ShipBob's OAuth 2.0 sign-in (authorization code), as ``auth.shipbob.com`` answers it.
Part of ``FakeShipBob``, served on any host (tests mount the fake on ``AUTH_URL`` too).

* ``GET /connect/authorize?client_id=&redirect_uri=&response_type=code&scope=&state=``: an HTML
  consent page naming the app and the scopes (space-separated), "Allow" / "Deny". Its form comes
  back to the same address with ``decision=allow``: a redirect to ``redirect_uri?code=&scope=&state=``
  (a code good once, for ``CODE_LIFETIME``, bound to that redirect URI); ``decision=deny``:
  ``redirect_uri?error=access_denied&state=``. An unknown client id, no absolute ``redirect_uri``
  or another ``response_type``: 400 and a page saying so.
* ``POST /connect/token`` (form-encoded; the app's ``client_id`` and ``client_secret`` in the
  body, as ShipBob's SDKs send them): ``grant_type=authorization_code`` with ``code`` and the same
  ``redirect_uri`` -> ``{"access_token", "expires_in": 3600, "token_type": "Bearer", "scope"}``
  and a ``refresh_token`` when ``offline_access`` was granted; ``grant_type=refresh_token`` with
  ``refresh_token`` -> the same shape with a NEW refresh token (it rotates: the used one is
  refused from then on). A used, unknown or expired code or refresh token: ``400
  {"error": "invalid_grant"}``; other client credentials: ``400 {"error": "invalid_client"}``.

Access tokens live in the fake's ``TokenStore`` (``tokens``): the API accepts them until they expire
(then 401, as for an unknown one). Test controls: ``token_calls`` (grant type and status of each
call to the token endpoint), ``expire_tokens()``, ``revoke_refresh_tokens()``, ``refreshes``.
"""

from __future__ import annotations

import datetime
import html
import json
import math
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

from integrations.fakes.tokens import Issued, TokenStore

AUTH_URL = "https://auth.shipbob.com"
CLIENT_ID = "shipbob_fake_client_4c1d9a"
CLIENT_SECRET = "shipbob_fake_client_secret_0b7e52f1"
APP_NAME = "ERP integration hub"
CODE_LIFETIME = datetime.timedelta(minutes=2)  # ShipBob's codes are short-lived
ACCESS_TTL = 3600  # seconds an access token lasts
REFRESH_TTL = 30 * 24 * 3600  # a refresh token lasts 30 days unused

SCOPE_TEXT = {
    "channels_read": "Read your channels",
    "orders_read": "Read your orders",
    "orders_write": "Create and change your orders",
    "fulfillments_read": "Read your shipments and fulfilments",
    "inventory_read": "Read your inventory",
    "receiving_read": "Read your warehouse receiving orders",
    "receiving_write": "Create and cancel warehouse receiving orders",
    "webhooks_read": "Read your webhook subscriptions",
    "webhooks_write": "Subscribe to webhooks",
    "offline_access": "Stay connected when you are away (a refresh token)",
}

Answer = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class _Code:
    scope: str
    redirect_uri: str
    issued_at: datetime.datetime


@dataclass(frozen=True)
class TokenCall:
    """One call to the token endpoint, for tests."""

    grant_type: str
    status: int


class ShipBobOAuth:
    """The consent page and the token endpoint. Mixed into ``FakeShipBob``."""

    clock: Callable[[], datetime.datetime]
    tokens: TokenStore
    _lock: threading.RLock

    def reset_oauth(self) -> None:
        with self._lock:
            self.oauth_codes: dict[str, _Code] = {}
            self.token_calls: list[TokenCall] = []

    @property
    def refreshes(self) -> int:
        return self.tokens.refreshes

    def expire_tokens(self) -> int:
        """Every access token issued so far has expired now; how many there were."""
        return self.tokens.expire_all()

    def revoke_refresh_tokens(self) -> None:
        """The merchant uninstalled the app: no refresh token is good any more."""
        self.tokens.revoke_refresh_tokens()

    def oauth_respond(self, request_method: str, url: httpx.URL, action: str, body: bytes) -> Answer:
        with self._lock:
            params = dict(parse_qsl(url.query.decode(), keep_blank_values=True))
            if action == "authorize" and request_method == "GET":
                return self._consent(url, params)
            if action == "token" and request_method == "POST":
                return self._token(dict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True)))
            return 405, {}, b""

    # --- the consent page ------------------------------------------------------------------------

    def _consent(self, url: httpx.URL, params: Mapping[str, str]) -> Answer:
        redirect_uri, state = params.get("redirect_uri", ""), params.get("state", "")
        target = httpx.URL(redirect_uri) if redirect_uri else None
        if params.get("client_id") != CLIENT_ID:
            return _page(400, "Sign-in error", "<p>invalid_client: the client_id is unknown.</p>")
        if target is None or target.scheme not in ("http", "https") or not target.host:
            return _page(400, "Sign-in error", "<p>invalid_request: the redirect_uri is not absolute.</p>")
        if params.get("response_type") != "code":
            return _page(400, "Sign-in error", "<p>unsupported_response_type: only code is offered.</p>")
        scope = " ".join(params.get("scope", "").split())
        decision = params.get("decision")
        if decision == "allow":
            code = secrets.token_urlsafe(24)
            self.oauth_codes[code] = _Code(scope, redirect_uri, self.clock())
            return _back(redirect_uri, {"code": code, "scope": scope, "state": state})
        if decision == "deny":
            return _back(
                redirect_uri,
                {"error": "access_denied", "error_description": "The user denied access", "state": state},
            )
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
            if k != "decision"
        )
        items = "".join(
            f"<li>{html.escape(SCOPE_TEXT.get(s, s))} <code>{html.escape(s)}</code></li>"
            for s in scope.split()
        )
        content = (
            f"<p><strong>{html.escape(APP_NAME)}</strong> asks to connect to your ShipBob account."
            f"</p><p>It will be able to:</p><ul>{items or '<li>Nothing</li>'}</ul>"
            f'<form method="get" action="{html.escape(url.path)}">{hidden}'
            '<button type="submit" name="decision" value="deny">Deny</button> '
            '<button type="submit" name="decision" value="allow">Allow</button></form>'
        )
        return _page(200, "Connect to ShipBob", content)

    # --- the token endpoint -----------------------------------------------------------------------

    def _token(self, form: Mapping[str, str]) -> Answer:
        grant_type = form.get("grant_type", "")
        if form.get("client_id") != CLIENT_ID or not secrets.compare_digest(
            form.get("client_secret", "").encode(), CLIENT_SECRET.encode()
        ):
            status, answer = 400, {"error": "invalid_client"}
        elif grant_type == "authorization_code":
            status, answer = self._grant(form)
        elif grant_type == "refresh_token":
            issued = self.tokens.refresh(
                form.get("refresh_token") or None, ttl=ACCESS_TTL, refresh_ttl=REFRESH_TTL
            )
            status, answer = (
                (400, {"error": "invalid_grant"}) if issued is None else (200, self._issued(issued))
            )
        else:
            status, answer = 400, {"error": "unsupported_grant_type"}
        self.token_calls.append(TokenCall(grant_type, status))
        return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(answer).encode()

    def _grant(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        code = self.oauth_codes.pop(form.get("code", ""), None)
        if code is None or self.clock() - code.issued_at > CODE_LIFETIME:
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri") != code.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri does not match"}
        offline = "offline_access" in code.scope.split()
        issued = self.tokens.issue(
            ttl=ACCESS_TTL, refresh_ttl=REFRESH_TTL, with_refresh=offline, scope=code.scope
        )
        return 200, self._issued(issued)

    def _issued(self, issued: Issued) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "access_token": issued.access_token,
            "expires_in": math.ceil((issued.expires_at - self.clock()).total_seconds())
            if issued.expires_at is not None
            else None,
            "token_type": "Bearer",
            "scope": issued.scope,
        }
        if issued.refresh_token:
            answer["refresh_token"] = issued.refresh_token
        return answer


def _back(redirect_uri: str, answer: Mapping[str, str]) -> Answer:
    joiner = "&" if "?" in redirect_uri else "?"
    return 302, {"Location": f"{redirect_uri}{joiner}{urlencode(list(answer.items()))}"}, b""


def _page(status: int, title: str, content: str) -> Answer:
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'>"
        f"<title>{html.escape(title)} · ShipBob</title><style>"
        "body{font:15px system-ui,sans-serif;background:#f4f6fa;margin:0;color:#1d2433}"
        "header{background:#0b3a82;color:#fff;padding:.75rem 1.5rem;font-weight:600}"
        "main{max-width:30rem;margin:3rem auto;background:#fff;padding:1.5rem 2rem;border-radius:10px}"
        "code{font-size:.8rem;color:#667}form{text-align:right;margin-top:1.5rem}"
        "button{font:inherit;padding:.45rem 1.1rem;border-radius:6px;border:1px solid #889;background:#fff}"
        f"</style></head><body><header>shipbob · fake</header><main><h1>{html.escape(title)}</h1>"
        f"{content}</main></body></html>"
    )
    return status, {"Content-Type": "text/html; charset=utf-8"}, page.encode()
