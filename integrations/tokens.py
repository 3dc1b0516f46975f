"""Tokens: refreshing a connection's credentials once for every worker, and giving up cleanly.

``TokenKeeper.refresh`` runs under the connection's row lock: if the stored credentials differ
from the ones a request was sent with (another worker refreshed meanwhile) they are adopted;
otherwise the connector's ``refresh_token`` is called and the grant stored. A 401 that a refresh
cannot cure marks the connection "needs re-authorisation" (``AuthFailed``).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, NoReturn, Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.errors import AuthFailed, HubError, Throttled, TransientError
from integrations.models import Connection, ConnectionStatus

if TYPE_CHECKING:
    from integrations.contract import Connector
    from integrations.models import RequestLog


class Client(Protocol):
    """What the keeper needs of the HTTP client it refreshes for (integrations.http.HubHttp)."""

    connection: Connection
    connector_cls: type[Connector]
    last_log: RequestLog | None

    @property
    def connector(self) -> Connector: ...


def now() -> datetime.datetime:
    return timezone.now()


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
        """Refresh the token once for every worker: True if new credentials are there to use.

        Under the connection's row lock: if the stored credentials differ from the ones we
        sent (another worker refreshed meanwhile) we adopt them; otherwise we call the
        connector's refresh_token and store the grant.
        """
        failure: HubError | None = None
        with transaction.atomic():
            row = Connection.objects.select_for_update().get(pk=self.connection.pk)
            if (row.secrets_encrypted, row.token_expires_at) != seen:
                self._adopt(row)
                return True
            self.refreshing = True
            try:
                grant = self.http.connector.refresh_token(row.get_secrets())
            except HubError as exc:  # keep the token endpoint's log: leave the block normally
                grant, failure = None, exc
            finally:
                self.refreshing = False
            if grant is not None:
                row.set_secrets({**row.get_secrets(), **dict(grant.secrets)})
                row.token_expires_at = grant.expires_at
                Connection.objects.filter(pk=row.pk).update(
                    secrets_encrypted=row.secrets_encrypted, token_expires_at=row.token_expires_at
                )
                self._adopt(row)
        if isinstance(failure, TransientError | Throttled):
            raise failure
        return grant is not None

    def _adopt(self, row: Connection) -> None:
        self.connection.secrets_encrypted = row.secrets_encrypted
        self.connection.token_expires_at = row.token_expires_at

    def needs_reauth(self, message: str) -> NoReturn:
        Connection.objects.filter(pk=self.connection.pk).exclude(status=ConnectionStatus.PAUSED).update(
            status=ConnectionStatus.NEEDS_REAUTH, last_error=message[:2000], last_failure_at=now()
        )
        if self.connection.status != ConnectionStatus.PAUSED:
            self.connection.status = ConnectionStatus.NEEDS_REAUTH
        error = AuthFailed(message)
        error.request_log = self.http.last_log  # the 401 that made it so
        raise error
