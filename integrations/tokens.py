"""Tokens: refreshing a connection's credentials once for every worker, and giving up cleanly.

One refresh at a time per connection, and no database lock held across the call to the tool's
token endpoint (a slow token endpoint must not stall every other write to the connection row):

1. **The lease** (a short transaction, the row locked with ``select_for_update``): if the stored
   credentials differ from the ones the request was sent with, another worker has refreshed
   meanwhile and they are adopted. If another worker holds the lease (``refreshing_until`` ahead),
   the transaction ends and we look again every ``WAIT_STEP`` seconds until its credentials
   appear (adopted) or its lease ends (it failed or died: we take the lease ourselves). Otherwise
   we take it: ``refreshing_until = now + lease_seconds()``.
2. **The call**: the connector's ``refresh_token``, outside the keeper's transactions.
3. **The grant** is stored the moment it arrives, in its own short transaction that also ends
   the lease: a rotated refresh token (QuickBooks invalidates the old one at once) is kept even
   if the worker dies right after. The token endpoint's log row has the new tokens taken out.

A refresh the tool refuses (``invalid_grant``: the refresh token is revoked or expired) ends the
lease and marks the connection "needs re-authorisation" (``AuthFailed``); a timeout, a 5xx or a
429 ends it and is raised (the caller tries again later). A 401 that a refresh cannot cure also
needs re-authorisation.

Inside a caller's own atomic block the keeper's transactions are savepoints, committed with the
caller's: the hub's callers (delivery attempts, polling, inbound processing's reads) make their
requests outside any transaction, as ``integrations.http`` says.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, NoReturn, Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.errors import AuthFailed, HubError, Throttled, TransientError, UndeclaredHost
from integrations.models import Connection, ConnectionStatus, RequestLog

if TYPE_CHECKING:
    from integrations.contract import Connector, TokenGrant

REDACTED = "[redacted]"
WAIT_STEP = 0.1  # seconds between looks at another worker's lease


class Client(Protocol):
    """What the keeper needs of the HTTP client it refreshes for (integrations.http.HubHttp)."""

    connection: Connection
    connector_cls: type[Connector]
    last_log: RequestLog | None

    @property
    def connector(self) -> Connector: ...


def now() -> datetime.datetime:
    return timezone.now()


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def lease_seconds() -> float:
    """How long a refresh may take before another worker may take over: long enough for the token
    call's timeouts (INTEGRATIONS_TOKEN_REFRESH_LEASE_SECONDS; by default twice the connect and read
    timeouts, 30 s)."""
    configured = getattr(settings, "INTEGRATIONS_TOKEN_REFRESH_LEASE_SECONDS", None)
    if configured:
        return float(configured)
    http = float(settings.INTEGRATIONS_HTTP_TIMEOUT) + float(settings.INTEGRATIONS_HTTP_CONNECT_TIMEOUT)
    return max(5.0, 2 * http)


def scrub(log: RequestLog | None, values: Iterable[object]) -> None:
    """Take secret values (new tokens a token endpoint answered, an authorisation code) out of a log
    row that was written before they were known to be secret."""
    if log is None or log.pk is None:
        return
    secrets = sorted({str(v) for v in values if isinstance(v, str) and len(v) >= 4}, key=len, reverse=True)
    if not secrets:
        return

    def clean(text: str) -> str:
        for value in secrets:
            text = text.replace(value, REDACTED)
        return text

    changes = {
        "url": clean(log.url),
        "request_body": clean(log.request_body),
        "response_body": clean(log.response_body),
        "error": clean(log.error),
    }
    if any(getattr(log, k) != v for k, v in changes.items()):
        RequestLog.objects.filter(pk=log.pk).update(**changes)
        for key, value in changes.items():
            setattr(log, key, value)


class TokenKeeper:
    """The credentials of the connection a HubHttp talks for."""

    def __init__(self, http: Client) -> None:
        self.http = http
        self.connection = http.connection
        self.connector_cls = http.connector_cls
        self.refreshing = False

    def state(self) -> tuple[str, datetime.datetime | None]:
        return self.connection.secrets_encrypted, self.connection.token_expires_at

    def can_refresh(self) -> bool:
        from integrations.contract import Connector

        return self.connector_cls.refresh_token is not Connector.refresh_token

    def expiring(self) -> bool:
        expires = self.connection.token_expires_at
        skew = datetime.timedelta(seconds=float(settings.INTEGRATIONS_TOKEN_REFRESH_SKEW_SECONDS))
        return not self.refreshing and expires is not None and expires <= now() + skew

    def refresh(self, *, seen: tuple[str, datetime.datetime | None]) -> bool:
        """Refresh the token once for every worker: True if new credentials are there to use, False if
        the connector cannot refresh them (no refresh token). ``seen``: the credentials the request
        was sent with (``state()``)."""
        lease = self._lease(seen)
        if lease is None:
            return True  # adopted what another worker stored
        until, secrets = lease
        self.refreshing = True
        try:
            grant = self.http.connector.refresh_token(secrets)
        except AuthFailed:  # the token endpoint refused our own credentials: marked already
            self._release(until)
            raise
        except (TransientError, Throttled, UndeclaredHost):  # the tool refused nothing: try again later
            self._release(until)
            raise
        except HubError as exc:  # invalid_grant: the refresh token is revoked or has run out
            self._release(until)
            self.needs_reauth(f"The token refresh was refused: {exc}")
        except BaseException:
            self._release(until)
            raise
        finally:
            self.refreshing = False
        if grant is None:
            self._release(until)
            return False
        self._store(grant, until)
        return True

    # --- the lease ----------------------------------------------------------------------------------

    def _lease(
        self, seen: tuple[str, datetime.datetime | None]
    ) -> tuple[datetime.datetime, dict[str, object]] | None:
        """Take the lease: (its end, the secrets to refresh with); None when another worker's new
        credentials were adopted instead."""
        deadline = time.monotonic() + lease_seconds() + 1.0
        waited = False
        while True:
            gave_up = ""
            with transaction.atomic():
                row = Connection.objects.select_for_update().get(pk=self.connection.pk)
                if (row.secrets_encrypted, row.token_expires_at) != seen:
                    self._adopt(row)
                    return None
                moment = now()
                busy = row.refreshing_until is not None and row.refreshing_until > moment
                if not busy and waited and row.status == ConnectionStatus.NEEDS_REAUTH:
                    gave_up = row.last_error or "The token refresh was refused."
                elif not busy:
                    until = moment + datetime.timedelta(seconds=lease_seconds())
                    Connection.objects.filter(pk=row.pk).update(refreshing_until=until)
                    return until, row.get_secrets()
            if gave_up:  # the worker we waited for was refused: asking again would be refused too
                self.connection.status = ConnectionStatus.NEEDS_REAUTH
                raise AuthFailed(gave_up)
            if time.monotonic() >= deadline:
                raise TransientError(
                    f"Another worker is still refreshing the token of {self.connection.name}; try again."
                )
            waited = True
            sleep(WAIT_STEP)

    def _release(self, until: datetime.datetime) -> None:
        """End our lease (not one another worker took after ours ran out)."""
        Connection.objects.filter(pk=self.connection.pk, refreshing_until=until).update(refreshing_until=None)

    def _store(self, grant: TokenGrant, until: datetime.datetime) -> None:
        """Store the grant at once, in its own transaction, and end the lease."""
        log = self.http.last_log  # the token endpoint's answer
        with transaction.atomic():
            row = Connection.objects.select_for_update().get(pk=self.connection.pk)
            row.set_secrets({**row.get_secrets(), **dict(grant.secrets)})
            row.token_expires_at = grant.expires_at
            fields: dict[str, object] = {
                "secrets_encrypted": row.secrets_encrypted,
                "token_expires_at": row.token_expires_at,
            }
            if grant.refresh_expires_at is not None:
                row.refresh_expires_at = grant.refresh_expires_at
                fields["refresh_expires_at"] = grant.refresh_expires_at
            if row.refreshing_until == until:
                row.refreshing_until = None
                fields["refreshing_until"] = None
            Connection.objects.filter(pk=row.pk).update(**fields)
        self._adopt(row)
        scrub(log, grant.secrets.values())

    def _adopt(self, row: Connection) -> None:
        self.connection.secrets_encrypted = row.secrets_encrypted
        self.connection.token_expires_at = row.token_expires_at
        self.connection.refresh_expires_at = row.refresh_expires_at

    def needs_reauth(self, message: str) -> NoReturn:
        Connection.objects.filter(pk=self.connection.pk).exclude(status=ConnectionStatus.PAUSED).update(
            status=ConnectionStatus.NEEDS_REAUTH, last_error=message[:2000], last_failure_at=now()
        )
        if self.connection.status != ConnectionStatus.PAUSED:
            self.connection.status = ConnectionStatus.NEEDS_REAUTH
        error = AuthFailed(message)
        error.request_log = self.http.last_log  # the 401 (or the refused refresh) that made it so
        raise error
