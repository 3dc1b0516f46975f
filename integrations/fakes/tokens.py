"""Access tokens a fake issues: static or expiring, refreshed with rotating refresh tokens, revoked.

``TokenStore(clock)`` is what a tool's token endpoint and its API check share:

* ``issue(ttl=3600, refresh_ttl=...)`` -> ``Issued`` (access token, its expiry, a refresh token
  when the tool gives one; ``access_token=`` / ``refresh_token=`` name them, for a test's fixed
  pair that expires like any other); ``allow(token)`` accepts a static token (the tests' fixed
  one) that never expires;
* ``check(token)`` -> ``"ok"``, ``"expired"`` or ``"invalid"``: the API answers 401 (or the
  tool's own "expired" error) for the last two;
* ``refresh(refresh_token)`` -> a new ``Issued`` (the refresh token rotates; with
  ``keep_previous_refresh`` the used one stays good until the new access token is first used,
  as Shopify does since 2026-08 so that a lost refresh answer can be retried), or None when
  the refresh token is unknown, used up or expired;
* ``check_refresh(refresh_token)``: the same verdict for a refresh token, without using it;
* faults: ``expire_all()`` (every access token issued so far is past its expiry now, as after a
  long outage), ``revoke_refresh_tokens()`` (no refresh token is good any more; access tokens
  live out their time, as when the grant lapsed) and ``revoke_all()`` (the app was
  uninstalled: nothing is good any more, the static tokens included);
* ``calls``: how many refreshes were answered, for tests.
"""

from __future__ import annotations

import datetime
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["ok", "expired", "invalid"]


@dataclass(frozen=True)
class Issued:
    access_token: str
    expires_at: datetime.datetime | None
    refresh_token: str | None = None
    refresh_expires_at: datetime.datetime | None = None
    scope: str = ""

    def expires_in(self, now: datetime.datetime) -> int | None:
        return None if self.expires_at is None else max(int((self.expires_at - now).total_seconds()), 0)

    def refresh_expires_in(self, now: datetime.datetime) -> int | None:
        if self.refresh_expires_at is None:
            return None
        return max(int((self.refresh_expires_at - now).total_seconds()), 0)


@dataclass
class _Refresh:
    expires_at: datetime.datetime | None
    scope: str
    replaced_by: str | None = None  # the access token its use issued (kept until that is used)


class TokenStore:
    def __init__(
        self,
        clock: Callable[[], datetime.datetime],
        *,
        prefix: str = "tok_",
        refresh_prefix: str = "ref_",
        keep_previous_refresh: bool = False,
    ) -> None:
        self.clock = clock
        self.prefix = prefix
        self.refresh_prefix = refresh_prefix
        self.keep_previous_refresh = keep_previous_refresh
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._static: set[str] = set()
            self._access: dict[str, datetime.datetime | None] = {}  # token -> expiry (None: never)
            self._refresh: dict[str, _Refresh] = {}
            self._used: set[str] = set()  # access tokens used at least once
            self.refreshes = 0
            self.revoked = False

    def allow(self, token: str) -> None:
        """A static token that never expires (the tests' and the demo's fixed token)."""
        with self._lock:
            self._static.add(token)
            self.revoked = False

    def issue(
        self,
        *,
        ttl: float | None = 3600,
        refresh_ttl: float | None = None,
        with_refresh: bool = True,
        scope: str = "",
        access_token: str | None = None,
        refresh_token: str | None = None,
    ) -> Issued:
        """A new access token (expiring after ``ttl`` seconds; None: never) and, when
        ``with_refresh``, a refresh token good for ``refresh_ttl`` seconds (None: no limit).
        ``access_token`` / ``refresh_token`` name them instead of random ones."""
        with self._lock:
            now = self.clock()
            access = access_token or self.prefix + secrets.token_hex(16)
            expires = None if ttl is None else now + datetime.timedelta(seconds=ttl)
            self._access[access] = expires
            refresh = refresh_expires = None
            if with_refresh:
                refresh = refresh_token or self.refresh_prefix + secrets.token_hex(16)
                refresh_expires = (
                    None if refresh_ttl is None else now + datetime.timedelta(seconds=refresh_ttl)
                )
                self._refresh[refresh] = _Refresh(refresh_expires, scope)
            self.revoked = False
            return Issued(access, expires, refresh, refresh_expires, scope)

    def check(self, token: str | None) -> Verdict:
        with self._lock:
            if not token or self.revoked:
                return "invalid"
            if token in self._static:
                return "ok"
            if token not in self._access:
                return "invalid"
            expires = self._access[token]
            if expires is not None and self.clock() >= expires:
                return "expired"
            if token not in self._used:
                self._used.add(token)
                # the refresh token that issued this one is done with now
                for key, entry in list(self._refresh.items()):
                    if entry.replaced_by == token:
                        del self._refresh[key]
            return "ok"

    def refresh(
        self, refresh_token: str | None, *, ttl: float | None = 3600, refresh_ttl: float | None = None
    ) -> Issued | None:
        """Trade a refresh token for a new access token and a new refresh token (None: refused)."""
        with self._lock:
            entry = self._refresh.get(refresh_token or "")
            if entry is None or self.revoked:
                return None
            if entry.expires_at is not None and self.clock() >= entry.expires_at:
                del self._refresh[refresh_token or ""]
                return None
            issued = self.issue(ttl=ttl, refresh_ttl=refresh_ttl, scope=entry.scope)
            self.refreshes += 1
            if self.keep_previous_refresh:
                entry.replaced_by = issued.access_token
            else:
                del self._refresh[refresh_token or ""]
            return issued

    def check_refresh(self, refresh_token: str | None) -> Verdict:
        """Whether a refresh token would be taken now ("ok"), has run out, or is unknown or used."""
        with self._lock:
            entry = self._refresh.get(refresh_token or "")
            if entry is None or self.revoked:
                return "invalid"
            if entry.expires_at is not None and self.clock() >= entry.expires_at:
                return "expired"
            return "ok"

    def revoke_refresh_tokens(self) -> None:
        """No refresh token is good any more (access tokens live out their time)."""
        with self._lock:
            self._refresh.clear()

    def expire_all(self) -> int:
        """Every expiring access token issued so far is expired now; how many there were."""
        with self._lock:
            now = self.clock() - datetime.timedelta(seconds=1)
            expiring = [t for t, at in self._access.items() if at is not None]
            for token in expiring:
                self._access[token] = now
            return len(expiring)

    def revoke_all(self) -> None:
        """The app was uninstalled or its grant revoked: no token (static ones included) is good."""
        with self._lock:
            self._static.clear()
            self._access.clear()
            self._refresh.clear()
            self.revoked = True

    @property
    def live_tokens(self) -> list[str]:
        with self._lock:
            now = self.clock()
            return [t for t, at in self._access.items() if at is None or at > now]
