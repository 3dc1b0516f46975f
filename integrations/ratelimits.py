"""Rate limits: how fast the hub may talk to one connection's tool.

Today one token bucket per connection (the connector's ``rate_limit_per_second`` and
``rate_limit_burst``), with its state and the tool's own "wait until" (``throttled_until``) on the
Connection row, taken under that row's lock. ``bucket`` names which of a connector's buckets a
request counts against; one bucket is all there is yet.
"""

from __future__ import annotations

import datetime
import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.errors import Throttled
from integrations.models import Connection

if TYPE_CHECKING:
    from integrations.contract import Connector


def now() -> datetime.datetime:
    return timezone.now()


def sleep(seconds: float) -> None:
    time.sleep(seconds)


class Limiter:
    """The rate limits of one connection, as one client (a worker's HubHttp) takes its turns."""

    def __init__(self, connection: Connection, connector_cls: type[Connector]) -> None:
        self.connection = connection
        self.connector_cls = connector_cls

    def throttle(self, seconds: float, bucket: str | None = None) -> None:
        """Nobody sends to this tool before now + seconds (keeps a later 'until' already set)."""
        until = now() + datetime.timedelta(seconds=seconds)
        Connection.objects.filter(pk=self.connection.pk).exclude(throttled_until__gte=until).update(
            throttled_until=until
        )
        if self.connection.throttled_until is None or self.connection.throttled_until < until:
            self.connection.throttled_until = until

    def wait_for_turn(self, bucket: str | None = None) -> None:
        """Take a token; wait in-process when the wait is short, else raise Throttled (not a failure)."""
        max_wait = float(settings.INTEGRATIONS_MAX_INLINE_WAIT_SECONDS)
        waited = 0.0
        while True:
            wait = self._take_token()
            if wait <= 0:
                return
            if waited + wait > max_wait:
                raise Throttled(
                    f"{self.connection} is rate limited for {wait:.1f} s more.", retry_after=max(wait, 0.1)
                )
            sleep(wait)
            waited += wait

    def _take_token(self) -> float:
        """0 if a token was taken, else how long to wait. Under the connection's row lock."""
        rate = float(self.connector_cls.rate_limit_per_second)
        burst = max(1, int(self.connector_cls.rate_limit_burst))
        with transaction.atomic():
            row = (
                Connection.objects.select_for_update()
                .filter(pk=self.connection.pk)
                .values("rate_tokens", "rate_refilled_at", "throttled_until")
                .get()
            )
            moment = now()
            if row["throttled_until"] is not None and row["throttled_until"] > moment:
                return (row["throttled_until"] - moment).total_seconds()
            if rate <= 0:
                return 0.0
            if row["rate_refilled_at"] is None:
                tokens = float(burst)
            else:
                elapsed = max(0.0, (moment - row["rate_refilled_at"]).total_seconds())
                tokens = min(float(burst), row["rate_tokens"] + elapsed * rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
            if wait == 0:
                tokens -= 1
            Connection.objects.filter(pk=self.connection.pk).update(
                rate_tokens=tokens, rate_refilled_at=moment
            )
        self.connection.rate_tokens, self.connection.rate_refilled_at = tokens, moment
        return wait
