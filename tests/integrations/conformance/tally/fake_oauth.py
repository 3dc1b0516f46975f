"""Tally's sign-in, as QuickBooks' (Intuit's OAuth 2.0 server), in memory: the consent page and the
token endpoint with ROTATING refresh tokens that expire. Part of the fake (``FakeTally.auth``).

* ``GET /oauth2/authorize?client_id=&redirect_uri=&response_type=code&scope=&state=``: an HTML
  page naming the app and the scopes, with "Allow" and "Deny". Its form goes to the same address
  with ``decision=allow`` (a redirect to ``redirect_uri?code=&state=&realmId=``) or ``deny``
  (``redirect_uri?error=access_denied&state=``). The page is served wherever the fake is: through
  the hub's HTTP client in tests, or by a live server for a browser (tests/browser/test_oauth.py).
* ``POST /oauth2/token`` with ``Authorization: Basic base64(client_id:client_secret)`` and a form:
  ``grant_type=authorization_code&code=&redirect_uri=`` (a code is good once, for the redirect URI
  it was given for) or ``grant_type=refresh_token&refresh_token=``. The answer:
  ``{"token_type": "bearer", "access_token", "expires_in": 3600, "refresh_token",
  "x_refresh_token_expires_in"}``. A refresh issues a new refresh token and the old one is refused
  from then on (``400 {"error": "invalid_grant"}``), as QuickBooks may; a wrong client is
  ``401 {"error": "invalid_client"}``.

The tokens live in ``tokens`` (an ``integrations.fakes.tokens.TokenStore`` on the fake's clock):
access tokens expire after an hour, refresh tokens after ``refresh_lifetime``.
"""

from __future__ import annotations

import base64
import datetime
import html
import threading
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

import httpx

from integrations.fakes.clock import WallClock
from integrations.fakes.tokens import Issued, TokenStore
from tests.integrations.conformance.tally.connector import REALM

CLIENT_ID, CLIENT_SECRET = "tally-client-7", "tally-client-secret-7"
REFRESH_TOKEN = "tally-refresh-1"
SCOPE = "com.tally.accounting"
ACCESS_SECONDS = 3600
REFRESH_LIFETIME = datetime.timedelta(days=100)


class FakeAuthServer:
    """Who may call Tally: the access token in force, the refresh tokens still good, the codes given."""

    def __init__(self, access_token: str, *, clock: Callable[[], datetime.datetime] | None = None) -> None:
        self.lock = threading.Lock()
        self.refresh_lifetime = REFRESH_LIFETIME
        self.tokens = TokenStore(clock or WallClock(), prefix="tally-token-", refresh_prefix="tally-refresh-")
        # the pair the tests' connections start with (an access token good for the hour)
        self._latest = self.tokens.issue(
            ttl=ACCESS_SECONDS,
            refresh_ttl=REFRESH_LIFETIME.total_seconds(),
            access_token=access_token,
            refresh_token=REFRESH_TOKEN,
        )
        self._refreshes: list[str] = [REFRESH_TOKEN]  # every refresh token issued, oldest first
        self.codes: dict[str, str] = {}  # code -> the redirect URI it was given for
        self.token_calls: list[str] = []  # the grant types asked for, in order
        self.script: list[httpx.Response] = []  # token answers served first (a 500, an invalid_grant)
        # Called before a token request is answered, outside the lock: a test blocks it here.
        self.before_token: Callable[[httpx.Request], None] | None = None
        self._issued = 1

    @property
    def access_token(self) -> str:
        """The access token issued last (the one in force)."""
        return self._latest.access_token

    def accepts(self, authorization: str | None) -> bool:
        scheme, _, token = (authorization or "").partition(" ")
        return scheme == "Bearer" and self.tokens.check(token) == "ok"

    # --- the tool's side of a test ----------------------------------------------------------------

    def expire_access_token(self) -> None:
        """The access token in force runs out: every request with it answers 401."""
        with self.lock:
            self.tokens.expire_all()

    def revoke_refresh_tokens(self) -> None:
        """The company disconnected the app (or 100 days passed): no refresh token is good."""
        with self.lock:
            self.tokens.revoke_refresh_tokens()

    def refresh_with(self, refresh_token: str) -> httpx.Response:
        """Ask the token endpoint directly, as anyone holding ``refresh_token`` could."""
        form = urlencode({"grant_type": "refresh_token", "refresh_token": refresh_token}).encode()
        request = httpx.Request(
            "POST",
            "https://tally.test/oauth2/token",
            content=form,
            headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
        )
        return self.handle(request)

    # --- HTTP ----------------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/authorize" and request.method == "GET":
            return self._consent(request)
        if request.url.path == "/oauth2/token" and request.method == "POST":
            if self.before_token is not None:
                self.before_token(request)
            return self._token(request)
        return httpx.Response(404, json={"error": "not_found"})

    def _consent(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        redirect_uri, state = params.get("redirect_uri", ""), params.get("state", "")
        if params.get("client_id") != CLIENT_ID or params.get("response_type") != "code" or not redirect_uri:
            return httpx.Response(400, html=page("Sign-in failed", "<p>Unknown app or a bad request.</p>"))
        decision = params.get("decision")
        if decision == "allow":
            code = f"tally-code-{len(self.codes) + 1}-{self._issued}"
            with self.lock:
                self.codes[code] = redirect_uri
            return back_to(redirect_uri, {"code": code, "state": state, "realmId": REALM})
        if decision == "deny":
            return back_to(
                redirect_uri,
                {"error": "access_denied", "error_description": "The user denied access", "state": state},
            )
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
            if k != "decision"
        )
        scopes = "".join(f"<li>{html.escape(s)}</li>" for s in params.get("scope", "").split())
        body = (
            "<p><strong>An app</strong> wants to connect to <strong>Tally Test Books</strong> "
            f"(company {REALM}).</p><p>It asks to:</p><ul>{scopes}</ul>"
            f'<form method="get" action="/oauth2/authorize">{hidden}'
            '<button type="submit" name="decision" value="allow" class="allow">Allow</button> '
            '<button type="submit" name="decision" value="deny">Deny</button></form>'
        )
        return httpx.Response(200, html=page("Connect to Tally", body))

    def _token(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            grant_type = dict(parse_qsl(request.content.decode())).get("grant_type", "")
            self.token_calls.append(grant_type)
            if self.script:
                return self.script.pop(0)
            if request.headers.get("authorization") != basic(CLIENT_ID, CLIENT_SECRET):
                return httpx.Response(401, json={"error": "invalid_client"})
            form = dict(parse_qsl(request.content.decode()))
            if grant_type == "authorization_code":
                if self.codes.pop(form.get("code", ""), None) != form.get("redirect_uri") or not form.get(
                    "redirect_uri"
                ):
                    return httpx.Response(400, json={"error": "invalid_grant"})
                return self._issue()
            if grant_type == "refresh_token":
                issued = self.tokens.refresh(
                    form.get("refresh_token"),
                    ttl=ACCESS_SECONDS,
                    refresh_ttl=self.refresh_lifetime.total_seconds(),
                )
                if issued is None:
                    return httpx.Response(400, json={"error": "invalid_grant"})
                return self._answer(issued)
            return httpx.Response(400, json={"error": "unsupported_grant_type"})

    def _issue(self) -> httpx.Response:
        issued = self.tokens.issue(ttl=ACCESS_SECONDS, refresh_ttl=self.refresh_lifetime.total_seconds())
        return self._answer(issued)

    def _answer(self, issued: Issued) -> httpx.Response:
        self._issued += 1
        self._latest = issued
        self._refreshes.append(str(issued.refresh_token))
        return httpx.Response(
            200,
            json={
                "token_type": "bearer",
                "access_token": issued.access_token,
                "expires_in": ACCESS_SECONDS,
                "refresh_token": issued.refresh_token,
                "x_refresh_token_expires_in": int(self.refresh_lifetime.total_seconds()),
            },
        )

    @property
    def refresh_token(self) -> str:
        """The newest refresh token that is still good ("" when none is)."""
        with self.lock:
            good = [t for t in self._refreshes if self.tokens.check_refresh(t) == "ok"]
            return good[-1] if good else ""


def basic(client_id: str, client_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


def back_to(redirect_uri: str, params: dict[str, str]) -> httpx.Response:
    joiner = "&" if "?" in redirect_uri else "?"
    return httpx.Response(302, headers={"Location": f"{redirect_uri}{joiner}{urlencode(params)}"})


def page(title: str, body: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font:16px system-ui,sans-serif;background:#eef3f1;margin:0}"
        "main{max-width:28rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;"
        "box-shadow:0 1px 4px #0002}h1{color:#0b6b4f;margin-top:0}"
        "button{font:inherit;padding:.5rem 1.25rem;border-radius:4px;border:1px solid #888;"
        "background:#fff;cursor:pointer}button.allow{background:#0b6b4f;color:#fff;border-color:#0b6b4f}"
        f"</style></head><body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
