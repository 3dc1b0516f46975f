"""The fake QuickBooks' sign-in: Intuit's OAuth 2.0 (authorization code grant), at any host.

* ``GET /connect/oauth2?client_id=&response_type=code&scope=com.intuit.quickbooks.accounting
  &redirect_uri=&state=`` (appcenter.intuit.com): a consent page naming the app and the company,
  with "Connect" and "Cancel". With ``auto_approve`` (the default, for tests) or
  ``decision=connect`` it redirects (302) to ``redirect_uri?code=&state=&realmId=``;
  ``decision=cancel`` to ``redirect_uri?error=access_denied&state=``. An unknown client id, or a
  ``redirect_uri`` that is not absolute (or not registered, when ``redirect_uris`` lists some):
  400 and a page saying so. A scope without ``com.intuit.quickbooks.accounting``:
  ``error=invalid_scope``. ``consent_realm`` is the company the person picks.
* ``POST /oauth2/v1/tokens/bearer`` (oauth.platform.intuit.com), ``Authorization: Basic
  base64(client_id:client_secret)`` (else 401 ``{"error": "invalid_client"}``), form-encoded:
  ``grant_type=authorization_code&code=&redirect_uri=`` (a code is good once, for ``CODE_TTL``,
  with the redirect URI it was issued for) or ``grant_type=refresh_token&refresh_token=``. Answer
  (``oauth_refresh_response.json``): ``{"token_type": "bearer", "expires_in": 3600,
  "refresh_token", "x_refresh_token_expires_in", "access_token"}``. A bad code or refresh token:
  400 ``{"error": "invalid_grant"}`` (the sample).
* Refresh tokens rotate as Intuit documents: a refresh answers the SAME refresh token while it is
  younger than ``ROTATE_AFTER`` (24 h; the sample's request and answer carry the same one), and
  a new one once it is older; the old one is then dead at once (no grace period: Intuit
  documents none, so the fake keeps none, and a refresh whose answer was lost after a rotation
  ends in invalid_grant: store every refresh token the moment it arrives).
  ``x_refresh_token_expires_in`` counts down the token's life (``REFRESH_TTL``, the sample's
  8726400 s). ``rotate_after = 0`` rotates on every refresh.
* ``POST /v2/oauth2/tokens/revoke`` (developer.api.intuit.com), Basic auth, JSON ``{"token": ...}``
  (a refresh or access token): the grant is gone, its tokens with it; 200.

Access tokens (one hour) belong to the realm they were granted for; the static ``ACCESS_TOKEN``
is good for every realm. Test controls: ``issue_tokens(realm)``, ``expire_tokens()``,
``revoke_grants()``, ``token_calls``.
"""

from __future__ import annotations

import base64
import datetime
import html
import json
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

from integrations.fakes.tokens import TokenStore
from integrations.quickbooks.fake_data import (
    ACCESS_TOKEN,
    ACCESS_TTL,
    CLIENT_ID,
    CLIENT_SECRET,
    CODE_TTL,
    REFRESH_PREFIX,
    REFRESH_TTL,
    ROTATE_AFTER,
    SCOPE,
    TOKEN_PREFIX,
)

Answer = tuple[int, dict[str, str], bytes]


@dataclass
class _Code:
    realm: str
    redirect_uri: str
    issued_at: datetime.datetime


@dataclass
class _Grant:
    realm: str
    refresh_token: str
    refresh_issued_at: datetime.datetime
    refresh_expires_at: datetime.datetime
    access_tokens: list[str]


@dataclass(frozen=True)
class TokenCall:
    grant_type: str
    status: int
    body: dict[str, Any]


class OAuthServer:
    """Intuit's consent page, token and revoke endpoints. Mixed into ``FakeQuickBooks``."""

    clock: Callable[[], datetime.datetime]
    _lock: threading.RLock
    realm_id: str
    company_name: Callable[[str], str]

    def reset_oauth(self) -> None:
        with self._lock:
            self.client_id: str = getattr(self, "client_id", CLIENT_ID)
            self.client_secret: str = getattr(self, "client_secret", CLIENT_SECRET)
            self.redirect_uris: set[str] = getattr(self, "redirect_uris", set())
            self.auto_approve: bool = getattr(self, "auto_approve", True)
            self.rotate_after: float = getattr(self, "rotate_after", ROTATE_AFTER)
            self.consent_realm: str | None = None
            self.tokens = TokenStore(self.clock, prefix=TOKEN_PREFIX)
            self.tokens.allow(ACCESS_TOKEN)
            self.codes: dict[str, _Code] = {}
            self.grants: dict[str, _Grant] = {}  # by refresh token
            self.token_realms: dict[str, str] = {}  # access token -> realm
            self.token_calls: list[TokenCall] = []
            self.dead_tokens: set[str] = set()  # access tokens of revoked grants

    # --- controls ---------------------------------------------------------------------------------

    def issue_tokens(self, realm: str | None = None) -> dict[str, Any]:
        """Tokens as a sign-in gives them (the token endpoint's answer), without the consent page."""
        with self._lock:
            return self._grant(realm or self.realm_id)

    def expire_tokens(self) -> int:
        """Every access token issued so far has expired (the static one aside)."""
        with self._lock:
            return self.tokens.expire_all()

    def revoke_grants(self) -> None:
        """Every grant is revoked (the company disconnected the app): refresh tokens answer
        invalid_grant, issued access tokens 401."""
        with self._lock:
            for grant in list(self.grants.values()):
                self._revoke(grant)

    def realm_of(self, token: str) -> str | None:
        """The realm an access token was granted for (None: the static token, good for all)."""
        return self.token_realms.get(token)

    # --- HTTP -------------------------------------------------------------------------------------

    def oauth_respond(
        self, method: str, url: httpx.URL, headers: Mapping[str, str], body: bytes
    ) -> Answer | None:
        """The answer of a sign-in path, or None when ``url`` is not one."""
        path = url.path.rstrip("/")
        with self._lock:
            if path.endswith("/connect/oauth2") and method == "GET":
                return self._consent(url)
            if path.endswith("/oauth2/v1/tokens/bearer"):
                return self._token(method, headers, body)
            if path.endswith("/oauth2/tokens/revoke"):
                return self._revoke_endpoint(method, headers, body)
        return None

    def _consent(self, url: httpx.URL) -> Answer:
        params = dict(parse_qsl(url.query.decode(), keep_blank_values=True))
        redirect_uri, state = params.get("redirect_uri", ""), params.get("state", "")
        target = httpx.URL(redirect_uri) if redirect_uri else None
        if params.get("client_id") != self.client_id:
            return _page(
                400, "Something went wrong", "<p>invalid_client: the client_id is not a registered app.</p>"
            )
        if (
            target is None
            or target.scheme not in ("http", "https")
            or not target.host
            or (self.redirect_uris and redirect_uri not in self.redirect_uris)
        ):
            return _page(
                400, "Something went wrong", "<p>The redirect_uri query parameter value is invalid.</p>"
            )
        if params.get("response_type", "code") != "code":
            return _back(redirect_uri, {"error": "unsupported_response_type", "state": state})
        if SCOPE not in params.get("scope", "").split():
            return _back(redirect_uri, {"error": "invalid_scope", "state": state})
        realm = params.get("realmId") or self.consent_realm or self.realm_id
        decision = params.get("decision") or ("connect" if self.auto_approve else "")
        if decision == "connect":
            code = "AB1" + secrets.token_urlsafe(30)
            self.codes[code] = _Code(realm, redirect_uri, self.clock())
            return _back(redirect_uri, {"code": code, "state": state, "realmId": realm})
        if decision == "cancel":
            return _back(redirect_uri, {"error": "access_denied", "state": state})
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
            if k != "decision"
        )
        content = (
            f"<p>Connect <strong>{html.escape(self.company_name(realm))}</strong> to this app? It will be "
            "able to read and write your accounting data.</p>"
            f'<form method="get" action="{html.escape(url.path)}">{hidden}'
            '<input type="hidden" name="realmId" value="' + html.escape(realm) + '">'
            '<button type="submit" name="decision" value="cancel">Cancel</button> '
            '<button type="submit" name="decision" value="connect">Connect</button></form>'
        )
        return _page(200, "Connect to QuickBooks", content)

    def _client_ok(self, headers: Mapping[str, str]) -> bool:
        lowered = {k.lower(): v for k, v in headers.items()}
        scheme, _, encoded = lowered.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            client_id, _, secret = base64.b64decode(encoded.strip()).decode().partition(":")
        except ValueError:
            return False
        return client_id == self.client_id and secrets.compare_digest(secret, self.client_secret)

    def _token(self, method: str, headers: Mapping[str, str], body: bytes) -> Answer:
        form = dict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
        grant_type = form.get("grant_type", "")
        if method != "POST":
            status, answer = 405, {"error": "invalid_request"}
        elif not self._client_ok(headers):
            status, answer = 401, {"error": "invalid_client"}
        elif grant_type == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            now = self.clock()
            if (
                code is None
                or (now - code.issued_at).total_seconds() > CODE_TTL
                or form.get("redirect_uri") != code.redirect_uri
            ):
                status, answer = 400, {"error": "invalid_grant"}
            else:
                status, answer = 200, self._grant(code.realm)
        elif grant_type == "refresh_token":
            status, answer = self._refresh(form.get("refresh_token", ""))
        else:
            status, answer = 400, {"error": "unsupported_grant_type"}
        self.token_calls.append(TokenCall(grant_type, status, answer))
        return _json(status, answer)

    def _grant(self, realm: str) -> dict[str, Any]:
        now = self.clock()
        refresh = REFRESH_PREFIX + secrets.token_hex(24)
        grant = _Grant(realm, refresh, now, now + datetime.timedelta(seconds=REFRESH_TTL), [])
        self.grants[refresh] = grant
        return self._answer(grant)

    def _answer(self, grant: _Grant) -> dict[str, Any]:
        issued = self.tokens.issue(ttl=ACCESS_TTL, with_refresh=False)
        grant.access_tokens.append(issued.access_token)
        self.token_realms[issued.access_token] = grant.realm
        remaining = int((grant.refresh_expires_at - self.clock()).total_seconds())
        return {
            "token_type": "bearer",
            "expires_in": ACCESS_TTL,
            "refresh_token": grant.refresh_token,
            "x_refresh_token_expires_in": max(remaining, 0),
            "access_token": issued.access_token,
        }

    def _refresh(self, refresh_token: str) -> tuple[int, dict[str, Any]]:
        grant = self.grants.get(refresh_token)
        now = self.clock()
        if grant is None or now >= grant.refresh_expires_at:
            return 400, {"error": "invalid_grant"}
        if (now - grant.refresh_issued_at).total_seconds() >= self.rotate_after:
            del self.grants[refresh_token]
            grant.refresh_token = REFRESH_PREFIX + secrets.token_hex(24)
            grant.refresh_issued_at = now
            grant.refresh_expires_at = now + datetime.timedelta(seconds=REFRESH_TTL)
            self.grants[grant.refresh_token] = grant
        return 200, self._answer(grant)

    def _revoke_endpoint(self, method: str, headers: Mapping[str, str], body: bytes) -> Answer:
        if method != "POST":
            return _json(405, {"error": "invalid_request"})
        if not self._client_ok(headers):
            return _json(401, {"error": "invalid_client"})
        try:
            token = str((json.loads(body or b"{}") or {}).get("token", ""))
        except (ValueError, AttributeError):
            token = dict(parse_qsl(body.decode(errors="replace"))).get("token", "")
        for grant in list(self.grants.values()):
            if token == grant.refresh_token or token in grant.access_tokens:
                self._revoke(grant)
        return 200, {}, b""

    def _revoke(self, grant: _Grant) -> None:
        self.grants.pop(grant.refresh_token, None)
        for access in grant.access_tokens:
            self.token_realms.pop(access, None)
            self.dead_tokens.add(access)

    def check_access(self, token: str) -> str:
        """ "ok", "expired" or "invalid" for an access token."""
        if token in self.dead_tokens:
            return "invalid"
        return self.tokens.check(token)


def _back(redirect_uri: str, params: dict[str, str]) -> Answer:
    joiner = "&" if "?" in redirect_uri else "?"
    return 302, {"Location": f"{redirect_uri}{joiner}{urlencode(params)}"}, b""


def _json(status: int, answer: Any) -> Answer:
    return status, {"Content-Type": "application/json;charset=utf-8"}, json.dumps(answer).encode()


def _page(status: int, title: str, content: str) -> Answer:
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'>"
        f"<title>{html.escape(title)} · Intuit</title><style>body{{font:15px system-ui,sans-serif;"
        "background:#f4f5f8;margin:0}header{background:#2ca01c;color:#fff;padding:.75rem 1.5rem;"
        "font-weight:600}main{max-width:30rem;margin:3rem auto;background:#fff;padding:1.5rem 2rem;"
        "border-radius:8px}form{text-align:right}button{font:inherit;padding:.4rem 1rem}</style></head>"
        f"<body><header>intuit · quickbooks · fake</header><main><h1>{html.escape(title)}</h1>{content}"
        "</main></body></html>"
    )
    return status, {"Content-Type": "text/html; charset=utf-8"}, page.encode()
