"""The fake HubSpot's sign-in: a private app's token, or OAuth 2.0 (authorization code grant).

* A private app's token (``PRIVATE_APP_TOKEN``, ``Authorization: Bearer pat-...``) never expires;
  its requests also count against the portal's daily quota.
* ``GET /oauth/authorize?client_id=&redirect_uri=&scope=&state=`` (app.hubspot.com): the consent
  page; with ``auto_approve`` (the default) it redirects (302) to ``redirect_uri?code=&state=``.
  An unknown client id: 400.
* ``POST /oauth/v1/token`` form-encoded (oauth_refresh_request.form.json): ``grant_type=
  authorization_code`` with ``client_id``, ``client_secret``, ``redirect_uri`` and ``code`` (good
  once, with the redirect URI it was issued for, for ``CODE_TTL``), or ``grant_type=refresh_token``
  with ``refresh_token``. Answer (oauth_refresh_response.json): ``{"token_type": "bearer",
  "refresh_token", "access_token", "expires_in": 1800}``. Access tokens expire after 30 minutes of
  the fake's clock; refresh tokens do not rotate (every refresh answers the same one, which keeps
  working) until revoked. Refusals are 400 ``{"status": "BAD_CLIENT_ID" | "BAD_CLIENT_SECRET" |
  "BAD_AUTH_CODE" | "BAD_REDIRECT_URI" | "BAD_REFRESH_TOKEN" | "BAD_GRANT_TYPE", "message",
  "correlationId"}`` [inferred from HubSpot's documented statuses].
* ``GET /oauth/v1/access-tokens/{token}`` and ``GET /oauth/v1/refresh-tokens/{token}``: what a
  token is (portal, app, scopes, expiry); ``DELETE /oauth/v1/refresh-tokens/{token}``: revoked (204).

Test controls: ``issue_tokens()``, ``expire_tokens()``, ``revoke_refresh_tokens()``, ``token_calls``.
"""

from __future__ import annotations

import datetime
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from integrations.fakes.base import Incoming
from integrations.fakes.tokens import TokenStore
from integrations.hubspot.fake_data import (
    ACCESS_PREFIX,
    ACCESS_TTL,
    CLIENT_ID,
    CLIENT_SECRET,
    CODE_TTL,
    PRIVATE_APP_TOKEN,
    REFRESH_TOKEN,
    SALES_REP_ID,
    SCOPES,
)

OAuthAnswer = tuple[int, Any, dict[str, str]]


@dataclass
class _Code:
    redirect_uri: str
    issued_at: datetime.datetime


@dataclass
class _Grant:
    scopes: tuple[str, ...]
    access_tokens: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TokenCall:
    grant_type: str
    status: int


def _refused(status: str, message: str) -> OAuthAnswer:
    return 400, {"status": status, "message": message, "correlationId": str(uuid.uuid4())}, {}


class HubSpotOAuth:
    """The token endpoint and the checks of the API's bearer tokens. Mixed into ``FakeHubSpot``."""

    clock: Callable[[], datetime.datetime]
    _lock: threading.RLock
    portal_id: int
    app_id: int

    def reset_oauth(self) -> None:
        with self._lock:
            self.client_id: str = getattr(self, "client_id", CLIENT_ID)
            self.client_secret: str = getattr(self, "client_secret", CLIENT_SECRET)
            self.auto_approve: bool = getattr(self, "auto_approve", True)
            self.tokens = TokenStore(self.clock, prefix=ACCESS_PREFIX)
            self.tokens.allow(PRIVATE_APP_TOKEN)
            self.private_tokens = {PRIVATE_APP_TOKEN}
            self.grants: dict[str, _Grant] = {}  # by refresh token
            self.expiry: dict[str, datetime.datetime] = {}  # OAuth access token -> when it runs out
            self.codes: dict[str, _Code] = {}
            self.token_calls: list[TokenCall] = []

    # --- controls -------------------------------------------------------------------------------------

    def issue_tokens(self, refresh_token: str | None = None) -> dict[str, Any]:
        """Tokens as a sign-in gives them (the token endpoint's answer), without the consent page.
        The first grant's refresh token is the sample's."""
        with self._lock:
            token = refresh_token or (REFRESH_TOKEN if REFRESH_TOKEN not in self.grants else None)
            return self._grant(token or f"na1-{uuid.uuid4()}")

    def expire_tokens(self) -> int:
        """Every OAuth access token issued so far has expired (the private app's never does)."""
        with self._lock:
            gone = self.clock() - datetime.timedelta(seconds=1)
            self.expiry = dict.fromkeys(self.expiry, gone)
            return self.tokens.expire_all()

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token is revoked (the app was uninstalled); access tokens live out their time."""
        with self._lock:
            self.grants.clear()

    def check_token(self, authorization: str) -> tuple[str, str]:
        """(verdict "ok" | "expired" | "invalid", kind "private" | "oauth") of a request's token."""
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return "invalid", "oauth"
        return self.tokens.check(token), ("private" if token in self.private_tokens else "oauth")

    def expired_for(self, authorization: str) -> int:
        """Whole minutes since a request's expired token ran out (HubSpot says so)."""
        token = authorization.partition(" ")[2].strip()
        expires = self.expiry.get(token)
        if expires is None:
            return 0
        return max(int((self.clock() - expires).total_seconds() // 60), 0)

    # --- HTTP -------------------------------------------------------------------------------------------

    def oauth_respond(self, request: Incoming, parts: list[str]) -> OAuthAnswer | None:
        """The answer to a sign-in request; None for any other request."""
        if parts[:1] != ["oauth"]:
            return None
        if parts == ["oauth", "authorize"] and request.method == "GET":
            return self._consent(request)
        if parts == ["oauth", "v1", "token"] and request.method == "POST":
            answer = self._token(dict(parse_qsl(request.body.decode(), keep_blank_values=True)))
            form = dict(parse_qsl(request.body.decode()))
            self.token_calls.append(TokenCall(form.get("grant_type", ""), answer[0]))
            return answer
        if (
            len(parts) == 4
            and parts[:2] == ["oauth", "v1"]
            and parts[2] in ("access-tokens", "refresh-tokens")
        ):
            return self._token_info(request.method, parts[2], parts[3])
        return 404, {"status": "error", "message": "Not found", "correlationId": str(uuid.uuid4())}, {}

    def _consent(self, request: Incoming) -> OAuthAnswer:
        params = request.params
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_id") != self.client_id or not redirect_uri.startswith(("http://", "https://")):
            return (
                400,
                {"status": "error", "message": "Unknown client_id or a redirect_uri that is not absolute."},
                {},
            )
        if not self.auto_approve and params.get("decision") != "connect":
            denied = urlencode({"error": "access_denied", "state": params.get("state", "")})
            return 302, None, {"Location": f"{redirect_uri}?{denied}"}
        code = secrets.token_urlsafe(24)
        self.codes[code] = _Code(redirect_uri, self.clock())
        query = urlencode({"code": code, **({"state": params["state"]} if "state" in params else {})})
        return 302, None, {"Location": f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{query}"}

    def _token(self, form: dict[str, str]) -> OAuthAnswer:
        if form.get("client_id") != self.client_id:
            return _refused("BAD_CLIENT_ID", "missing or invalid client_id")
        if form.get("client_secret") != self.client_secret:
            return _refused("BAD_CLIENT_SECRET", "missing or invalid client_secret")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            if code is None or self.clock() - code.issued_at > datetime.timedelta(seconds=CODE_TTL):
                return _refused("BAD_AUTH_CODE", "missing or unknown auth code")
            if form.get("redirect_uri") != code.redirect_uri:
                return _refused("BAD_REDIRECT_URI", "redirect_uri does not match initial auth code URL")
            return 200, self.issue_tokens(), {}
        if grant_type == "refresh_token":
            refresh = form.get("refresh_token", "")
            if refresh not in self.grants:
                return _refused("BAD_REFRESH_TOKEN", "missing or invalid refresh token")
            return 200, self._grant(refresh), {}
        return _refused("BAD_GRANT_TYPE", "grant_type must be authorization_code or refresh_token")

    def _grant(self, refresh_token: str) -> dict[str, Any]:
        """A new access token on ``refresh_token``'s grant (made when new); the token answer."""
        grant = self.grants.setdefault(refresh_token, _Grant(SCOPES))
        issued = self.tokens.issue(ttl=ACCESS_TTL, with_refresh=False)
        grant.access_tokens.append(issued.access_token)
        if issued.expires_at is not None:
            self.expiry[issued.access_token] = issued.expires_at
        return {
            "token_type": "bearer",
            "refresh_token": refresh_token,
            "access_token": issued.access_token,
            "expires_in": ACCESS_TTL,
        }

    def _token_info(self, method: str, kind: str, token: str) -> OAuthAnswer:
        grant = next(
            (
                g
                for r, g in self.grants.items()
                if (r == token if kind == "refresh-tokens" else token in g.access_tokens)
            ),
            None,
        )
        if kind == "refresh-tokens" and method == "DELETE":
            if grant is None:
                return 404, {"status": "error", "message": "refresh token not found"}, {}
            del self.grants[token]
            return 204, None, {}
        if method != "GET" or grant is None or (kind == "access-tokens" and self.tokens.check(token) != "ok"):
            return 404, {"status": "error", "message": f"{kind[:-1].replace('-', ' ')} not found"}, {}
        info: dict[str, Any] = {
            "token": token,
            "user": "rep@example.com",
            "hub_domain": "trailhead.example.com",
            "scopes": list(grant.scopes),
            "hub_id": self.portal_id,
            "app_id": self.app_id,
            "user_id": SALES_REP_ID,
            "token_type": "access" if kind == "access-tokens" else "refresh",
        }
        if kind == "access-tokens":
            expires = self.expiry.get(token)
            info["expires_in"] = max(int((expires - self.clock()).total_seconds()), 0) if expires else 0
        else:
            info["client_id"] = self.client_id
        return 200, info, {}
