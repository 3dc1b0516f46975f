"""The fake shop's sign-in, as Shopify's OAuth (authorization code grant). Part of the fake
(``FakeShopify``), served wherever it is: through a mounted transport in tests, by a live server
for a browser, and under /integrations/fake-shopify/ in the ``make run`` demo.

* ``GET {shop}/admin/oauth/authorize?client_id=&scope=&redirect_uri=&state=``: an HTML page naming
  the app, the shop and the scopes (comma-separated), with "Install" and "Cancel". Its form goes to
  the same address with ``decision=install``: a redirect to
  ``redirect_uri?code=&hmac=&host=&shop=&state=&timestamp=``, where ``hmac`` is the hex
  HMAC-SHA256, keyed with the app's client secret, of the other parameters sorted and joined as
  ``key=value&…`` (``callback_hmac``), as Shopify signs them. ``decision=cancel``: a redirect to
  ``redirect_uri?error=access_denied&…`` (signed the same way). Shopify itself leaves a person who
  cancels in its admin; the fake tells the app instead, so a test can see that nothing changed.
  An unknown client id, or no absolute ``redirect_uri``: 400 and a page saying so.
* ``POST {shop}/admin/oauth/access_token`` with ``client_id``, ``client_secret`` and ``code`` (a
  form or JSON): ``{"access_token": "shpat_…", "scope": "read_orders,…"}``, a non-expiring offline
  token. With ``expiring=1`` (as Shopify's expiring offline tokens, changelog 2025-12-10): an
  access token good for ``ACCESS_TTL`` (an hour) and a refresh token, ``{"access_token",
  "expires_in": 3600, "refresh_token", "refresh_token_expires_in", "scope"}``. A code is good once
  and for ``CODE_LIFETIME``; a used, unknown or expired code, or another app's credentials, answer
  ``400 {"error": …, "error_description": …}``.
* The same endpoint with ``grant_type=refresh_token`` and ``refresh_token`` (and the app's
  credentials): a new access token and a NEW refresh token, in the same shape. The used refresh
  token stays good until the new access token is first used (Shopify since 2026-08-28), so a
  refresh whose answer was lost can be asked again. An unknown, expired or used-up refresh token:
  ``400 {"error": "invalid_grant", "error_description": …}``.

Tokens live in a ``integrations.fakes.tokens.TokenStore`` (``tokens``, built by ``FakeShopify``):
the fake's own ``access_token`` (the static token of the tests and the demo) and every token the
endpoint issued are accepted by the Admin API until they expire (an expired one gets the same 401
as an unknown one, as Shopify answers) or ``revoke_token()`` (the app uninstalled). Test controls:
``oauth_codes`` (the codes not used yet), ``issued_tokens``, ``token_calls`` (every call to the
token endpoint, with its grant type and its answer's status), ``expire_tokens()`` (every expiring
token issued so far has expired now), ``refreshes`` (refreshes granted).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
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

CODE_LIFETIME = datetime.timedelta(minutes=10)
ACCESS_TTL = 3600  # seconds an expiring offline access token lasts, as Shopify's
REFRESH_TTL = 90 * 24 * 3600  # seconds a refresh token lasts (the fake's choice; Shopify says its own)

# What the consent page says a scope lets the app do (else it shows the scope's name only).
SCOPE_TEXT = {
    "read_orders": "View orders, transactions and fulfilments",
    "write_orders": "Edit orders",
    "read_products": "View products and their variants",
    "write_products": "Edit products",
    "read_inventory": "View inventory levels",
    "write_inventory": "Change inventory levels",
    "read_locations": "View the shop's locations",
    "read_merchant_managed_fulfillment_orders": "View the fulfilment orders you fulfil yourself",
    "write_merchant_managed_fulfillment_orders": "Fulfil the orders you fulfil yourself",
}


def callback_hmac(secret: str, params: Mapping[str, str]) -> str:
    """Shopify's signature of an OAuth callback: hex HMAC-SHA256(client secret, the parameters but
    ``hmac`` (and ``signature``), each ``key=value`` with ``%``, ``&`` and ``=`` escaped, sorted,
    joined with ``&``)."""

    def pair(key: str, value: str) -> str:
        key = key.replace("%", "%25").replace("=", "%3D")
        return f"{key}={value.replace('%', '%25')}".replace("&", "%26")

    message = "&".join(sorted(pair(k, str(v)) for k, v in params.items() if k not in ("hmac", "signature")))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class _Code:
    scope: str
    issued_at: datetime.datetime


@dataclass(frozen=True)
class TokenCall:
    """One call to the token endpoint, for tests to inspect."""

    code: str  # "" for a refresh
    status: int
    grant_type: str = "authorization_code"  # or "refresh_token"


class OAuthServer:
    """The app's install: the consent page and the token endpoint. Mixed into ``FakeShopify``."""

    shop_domain: str
    client_id: str
    client_secret: str
    app_name: str
    access_token: str
    shop: dict[str, Any]
    clock: Callable[[], datetime.datetime]
    tokens: TokenStore
    _lock: threading.RLock

    def reset_oauth(self) -> None:
        with self._lock:
            self.oauth_codes: dict[str, _Code] = {}
            self.issued_tokens: dict[str, str] = {}  # token -> the scopes granted with it
            self.token_calls: list[TokenCall] = []
            self.tokens.reset()
            self.tokens.allow(self.access_token)

    def accepts_token(self, token: str | None) -> bool:
        """The static access token, or one the token endpoint issued, not expired nor revoked."""
        with self._lock:
            return self.tokens.check(token) == "ok"

    def issue_token(self, *, expiring: bool = True, scope: str = "") -> Issued:
        """A token as an earlier sign-in gave it (without the consent page): an expiring one with its
        refresh token, or a non-expiring one. For a connection a test or the simulated day sets up."""
        with self._lock:
            if expiring:
                issued = self.tokens.issue(ttl=ACCESS_TTL, refresh_ttl=REFRESH_TTL, scope=scope)
            else:
                issued = self.tokens.issue(ttl=None, with_refresh=False, scope=scope)
            self.issued_tokens[issued.access_token] = scope
            return issued

    def expire_tokens(self) -> int:
        """Every expiring access token issued so far has expired now (as after an hour, or an outage):
        the Admin API answers them 401 until the app refreshes. How many there were."""
        with self._lock:
            return self.tokens.expire_all()

    def revoke_tokens(self) -> None:
        """The app is uninstalled: no token is good any more, refresh tokens and the static one
        included (a new sign-in issues good ones)."""
        with self._lock:
            self.tokens.revoke_all()
            self.issued_tokens.clear()

    @property
    def refreshes(self) -> int:
        """How many refreshes the token endpoint granted."""
        return self.tokens.refreshes

    def oauth_respond(
        self,
        method: str,
        url: httpx.URL,
        action: str,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> tuple[int, dict[str, str], bytes]:
        """``action`` is "authorize" or "access_token": (status, headers, body)."""
        with self._lock:
            if action == "authorize" and method == "GET":
                return self._consent(url, params)
            if action == "access_token" and method == "POST":
                return self._token(headers, body)
            return _json(404, {"errors": "Not Found"})

    # --- the consent page ----------------------------------------------------------------------

    def _consent(self, url: httpx.URL, params: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        redirect_uri, state = params.get("redirect_uri", ""), params.get("state", "")
        target = httpx.URL(redirect_uri) if redirect_uri else None
        if params.get("client_id") != self.client_id:
            return _html(
                400, "Oauth error invalid_request", "<p>The client_id is not an app of this shop.</p>"
            )
        if target is None or target.scheme not in ("http", "https") or not target.host:
            return _html(
                400,
                "Oauth error invalid_request",
                "<p>The redirect_uri is missing or not an absolute URL.</p>",
            )
        scope = ",".join(s.strip() for s in params.get("scope", "").split(",") if s.strip())
        decision = params.get("decision")
        if decision == "install":
            code = secrets.token_hex(16)
            self.oauth_codes[code] = _Code(scope=scope, issued_at=self.clock())
            return self._back(redirect_uri, {"code": code, "state": state})
        if decision == "cancel":
            return self._back(
                redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": "The merchant cancelled the install",
                    "state": state,
                },
            )
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
            if k != "decision"
        )
        scopes = (
            "".join(
                f"<li>{html.escape(SCOPE_TEXT.get(s, s))} <code>{html.escape(s)}</code></li>"
                for s in scope.split(",")
                if s
            )
            or "<li>Nothing beyond the shop's name</li>"
        )
        shop_name = str(self.shop.get("name") or self.shop_domain)
        content = (
            f"<p><strong>{html.escape(self.app_name)}</strong> wants to be installed on "
            f"<strong>{html.escape(shop_name)}</strong> "
            f"<span class='muted'>({html.escape(self.shop_domain)})</span>."
            f"</p><p>It will be able to:</p><ul>{scopes}</ul>"
            f'<form method="get" action="{html.escape(url.path)}">{hidden}'
            '<button type="submit" name="decision" value="cancel">Cancel</button> '
            '<button type="submit" name="decision" value="install" class="install">Install</button></form>'
        )
        return _html(200, "Install app", content)

    def _back(self, redirect_uri: str, answer: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """To the app's redirect URI with ``answer``, the shop, a timestamp and Shopify's hmac."""
        store = self.shop_domain.split(".", 1)[0]
        params = {
            **answer,
            "host": base64.b64encode(f"admin.shopify.com/store/{store}".encode()).decode().rstrip("="),
            "shop": self.shop_domain,
            "timestamp": str(int(self.clock().timestamp())),
        }
        params["hmac"] = callback_hmac(self.client_secret, params)
        joiner = "&" if "?" in redirect_uri else "?"
        return 302, {"Location": f"{redirect_uri}{joiner}{urlencode(sorted(params.items()))}"}, b""

    # --- the token endpoint ---------------------------------------------------------------------

    def _token(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        form = _form(headers, body)
        grant_type = str(form.get("grant_type") or "authorization_code")
        code = str(form.get("code") or "") if grant_type != "refresh_token" else ""
        if form.get("client_id") != self.client_id or not hmac.compare_digest(
            str(form.get("client_secret") or "").encode(), self.client_secret.encode()
        ):
            status, answer = (
                400,
                {"error": "invalid_client", "error_description": "Client credentials are invalid"},
            )
        elif grant_type == "refresh_token":
            status, answer = self._refresh(str(form.get("refresh_token") or ""))
        else:
            status, answer = self._grant(form, code)
        self.token_calls.append(TokenCall(code=code, status=status, grant_type=grant_type))
        return _json(status, answer)

    def _grant(self, form: Mapping[str, Any], code: str) -> tuple[int, dict[str, Any]]:
        granted = self.oauth_codes.pop(code, None)
        if granted is None or self.clock() - granted.issued_at > CODE_LIFETIME:
            return 400, {
                "error": "invalid_request",
                "error_description": "The authorization code was not found or was already used",
            }
        expiring = str(form.get("expiring") or "").lower() in ("1", "true")
        issued = self.issue_token(expiring=expiring, scope=granted.scope)
        if not expiring:  # a non-expiring offline token: no expiry, no refresh token
            return 200, {"access_token": issued.access_token, "scope": issued.scope}
        return 200, self._issued(issued)

    def _refresh(self, refresh_token: str) -> tuple[int, dict[str, Any]]:
        issued = self.tokens.refresh(refresh_token or None, ttl=ACCESS_TTL, refresh_ttl=REFRESH_TTL)
        if issued is None:
            return 400, {
                "error": "invalid_grant",
                "error_description": "The refresh token is invalid, expired or revoked",
            }
        self.issued_tokens[issued.access_token] = issued.scope
        return 200, self._issued(issued)

    def _issued(self, issued: Issued) -> dict[str, Any]:
        """An expiring offline token as Shopify answers it."""
        now = self.clock()

        def seconds_to(moment: datetime.datetime | None) -> int | None:
            return None if moment is None else max(math.ceil((moment - now).total_seconds()), 0)

        return {
            "access_token": issued.access_token,
            "expires_in": seconds_to(issued.expires_at),
            "refresh_token": issued.refresh_token,
            "refresh_token_expires_in": seconds_to(issued.refresh_expires_at),
            "scope": issued.scope,
        }


def _form(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    if "json" in content_type:
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return dict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))


def _json(status: int, answer: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(answer).encode()


def _html(status: int, title: str, content: str) -> tuple[int, dict[str, str], bytes]:
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'>"
        f"<title>{html.escape(title)} · Shopify</title><style>"
        "body{font:15px system-ui,sans-serif;background:#f1f1f1;margin:0;color:#303030}"
        "header{background:#1a1a1a;color:#fff;padding:.75rem 1.5rem;font-weight:600}"
        "main{max-width:30rem;margin:3rem auto;background:#fff;padding:1.5rem 2rem;border-radius:12px;"
        "box-shadow:0 1px 3px #0003}h1{font-size:1.3rem;margin-top:0}.muted{color:#616161}"
        "li{margin:.3rem 0}code{font-size:.8rem;color:#616161}form{text-align:right;margin-top:1.5rem}"
        "button{font:inherit;padding:.45rem 1.1rem;border-radius:8px;border:1px solid #8a8a8a;"
        "background:#fff;cursor:pointer}button.install{background:#303030;color:#fff;border-color:#303030}"
        f"</style></head><body><header>shopify · fake</header><main><h1>{html.escape(title)}</h1>"
        f"{content}</main></body></html>"
    )
    return status, {"Content-Type": "text/html; charset=utf-8"}, page.encode()
