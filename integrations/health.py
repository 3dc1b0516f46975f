"""Health of a connection: is data flowing, what is stuck, what needs a person soon.

``connection_health(connection)`` is cheap (four aggregate queries, no call to the
tool) and ``connections_health(connections)`` gives the same for many connections
with the same four queries (the hub page). They read:

* last successful sync: the latest of a succeeded SyncRun, a delivered Delivery
  and ``Connection.last_success_at``;
* error rate over the last 24 h: (failed SyncRuns + failed or dead deliveries) /
  (all SyncRuns + all deliveries) created in that window;
* deliveries pending (pending or retrying) and dead; inbound events quarantined and
  failed or dead; open drifts;
* webhook topics missing at the tool, as the last ``health_check`` found them;
* token expiry (expiring within INTEGRATIONS_TOKEN_WARNING_DAYS, default 7; not for a connector
  that refreshes its tokens itself) and the API version's sunset within 90 days
  (``Connector.api_versions``);
* the sign-in's end: a refresh token that runs out within ``oauth.REAUTH_WARNING_DAYS`` (14)
  ("Re-authorise within 12 days").

``health_check(connection=)`` asks the tool which webhooks exist
(``connector.list_webhooks``) and registers the missing ones at the hook URL,
built from settings.PUBLIC_BASE_URL (default "http://127.0.0.1:8000").
``connection_test(connection=)`` makes the connector's one cheap call in a SyncRun
(job test); on success the run's ``errors`` holds one info entry with its answer.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone

from integrations import inbound, oauth, registry
from integrations.contract import Connector
from integrations.models import (
    Connection,
    ConnectionStatus,
    Delivery,
    DeliveryStatus,
    Drift,
    DriftStatus,
    InboundEvent,
    InboundStatus,
    SyncJob,
    SyncRun,
    SyncRunStatus,
)

logger = logging.getLogger(__name__)

SUNSET_WARNING_DAYS = 90
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class ConnectionHealth:
    connection_id: int
    status: str
    last_success_at: datetime.datetime | None
    last_failure_at: datetime.datetime | None
    last_error: str
    runs_24h: int
    runs_failed_24h: int
    deliveries_24h: int
    deliveries_failed_24h: int
    pending_deliveries: int
    dead_deliveries: int
    quarantined_events: int
    failed_events: int
    open_drifts: int
    webhooks_missing: tuple[str, ...]
    webhooks_checked_at: datetime.datetime | None
    token_expires_at: datetime.datetime | None
    token_expiring: bool
    api_version: str
    api_version_sunset: datetime.date | None
    api_version_sunsetting: bool
    problems: tuple[str, ...] = field(default=())
    refresh_expires_at: datetime.datetime | None = None  # the sign-in runs out then
    reauth_due: bool = False  # within oauth.REAUTH_WARNING_DAYS

    @property
    def error_rate(self) -> float:
        total = self.runs_24h + self.deliveries_24h
        return (self.runs_failed_24h + self.deliveries_failed_24h) / total if total else 0.0

    @property
    def level(self) -> str:
        """ok, warning or error: what the hub page colours the connection with."""
        if self.status != "active" and self.status != "paused":
            return "error"
        if self.dead_deliveries or self.error_rate >= 0.5:
            return "error"
        return "warning" if self.problems else "ok"


def public_base_url() -> str:
    return str(settings.PUBLIC_BASE_URL or DEFAULT_PUBLIC_BASE_URL).rstrip("/")


def hook_url(connection: Connection) -> str:
    return public_base_url() + reverse("integrations:hook", args=[connection.pk])


def _api_version(connection: Connection) -> tuple[str, datetime.date | None]:
    try:
        versions = registry.get(connection.connector).api_versions
    except registry.UnknownConnector:
        return connection.api_version, None
    version = connection.api_version or next(iter(versions), "")
    return version, versions.get(version)


def _refreshes(connection: Connection) -> bool:
    """The connector renews its access tokens itself: their expiry is nobody's worry."""
    try:
        cls = registry.get(connection.connector)
    except registry.UnknownConnector:
        return False
    return cls.refresh_token is not Connector.refresh_token


def connections_health(connections: Iterable[Connection]) -> dict[int, ConnectionHealth]:
    """Health of every connection given, in four queries whatever their number."""
    rows = list(connections)
    ids = [c.pk for c in rows]
    now = timezone.now()
    since = now - datetime.timedelta(hours=24)
    runs = {
        r["connection_id"]: r
        for r in SyncRun.objects.filter(connection_id__in=ids)
        .values("connection_id")
        .annotate(
            total=Count("id", filter=Q(started_at__gte=since)),
            failed=Count("id", filter=Q(started_at__gte=since, status=SyncRunStatus.FAILED)),
            last_ok=Max("finished_at", filter=Q(status=SyncRunStatus.SUCCEEDED)),
        )
    }
    deliveries = {
        d["connection_id"]: d
        for d in Delivery.objects.filter(connection_id__in=ids)
        .values("connection_id")
        .annotate(
            total=Count("id", filter=Q(created_at__gte=since)),
            failed=Count(
                "id",
                filter=Q(created_at__gte=since, status__in=[DeliveryStatus.FAILED, DeliveryStatus.DEAD]),
            ),
            pending=Count("id", filter=Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED])),
            dead=Count("id", filter=Q(status=DeliveryStatus.DEAD)),
            last_ok=Max("delivered_at"),
        )
    }
    events = {
        e["connection_id"]: e
        for e in InboundEvent.objects.filter(connection_id__in=ids)
        .values("connection_id")
        .annotate(
            quarantined=Count("id", filter=Q(status=InboundStatus.QUARANTINED)),
            failed=Count("id", filter=Q(status__in=[InboundStatus.FAILED, InboundStatus.DEAD])),
        )
    }
    drifts = dict(
        Drift.objects.filter(connection_id__in=ids, status=DriftStatus.OPEN)
        .values("connection_id")
        .annotate(n=Count("id"))
        .values_list("connection_id", "n")
    )
    return {
        c.pk: _health(
            c, now, runs.get(c.pk, {}), deliveries.get(c.pk, {}), events.get(c.pk, {}), drifts.get(c.pk, 0)
        )
        for c in rows
    }


def connection_health(connection: Connection) -> ConnectionHealth:
    return connections_health([connection])[connection.pk]


def _health(
    c: Connection,
    now: datetime.datetime,
    runs: dict[str, Any],
    deliveries: dict[str, Any],
    events: dict[str, Any],
    open_drifts: int,
) -> ConnectionHealth:
    successes = [
        t for t in (c.last_success_at, runs.get("last_ok"), deliveries.get("last_ok")) if t is not None
    ]
    warn_days = float(settings.INTEGRATIONS_TOKEN_WARNING_DAYS)
    expires = c.token_expires_at
    token_expiring = (
        expires is not None and expires <= now + datetime.timedelta(days=warn_days) and not _refreshes(c)
    )
    refresh_expires = c.refresh_expires_at
    left = oauth.days_left(refresh_expires, now)
    version, sunset = _api_version(c)
    sunsetting = sunset is not None and sunset <= now.date() + datetime.timedelta(days=SUNSET_WARNING_DAYS)
    missing = tuple(c.webhooks_missing or ())
    health = ConnectionHealth(
        connection_id=c.pk,
        status=c.status,
        last_success_at=max(successes) if successes else None,
        last_failure_at=c.last_failure_at,
        last_error=c.last_error,
        runs_24h=runs.get("total", 0),
        runs_failed_24h=runs.get("failed", 0),
        deliveries_24h=deliveries.get("total", 0),
        deliveries_failed_24h=deliveries.get("failed", 0),
        pending_deliveries=deliveries.get("pending", 0),
        dead_deliveries=deliveries.get("dead", 0),
        quarantined_events=events.get("quarantined", 0),
        failed_events=events.get("failed", 0),
        open_drifts=open_drifts,
        webhooks_missing=missing,
        webhooks_checked_at=c.webhooks_checked_at,
        token_expires_at=expires,
        token_expiring=token_expiring,
        api_version=version,
        api_version_sunset=sunset,
        api_version_sunsetting=sunsetting,
        refresh_expires_at=refresh_expires,
        reauth_due=left is not None and left <= oauth.REAUTH_WARNING_DAYS,
    )
    return _with_problems(health, now)


def _with_problems(h: ConnectionHealth, now: datetime.datetime) -> ConnectionHealth:
    problems = []
    if h.status == ConnectionStatus.NEEDS_REAUTH:
        problems.append("The tool refused our credentials: the connection needs re-authorisation.")
    elif h.status not in ("active", "paused"):
        problems.append(f"Connection is {h.status.replace('_', ' ')}.")
    if h.dead_deliveries:
        problems.append(f"{h.dead_deliveries} dead deliveries.")
    if h.quarantined_events:
        problems.append(f"{h.quarantined_events} events quarantined.")
    if h.failed_events:
        problems.append(f"{h.failed_events} events failed.")
    if h.open_drifts:
        problems.append(f"{h.open_drifts} open drifts.")
    if h.webhooks_missing:
        problems.append(f"Webhooks missing: {', '.join(h.webhooks_missing)}.")
    if h.error_rate:
        failed = h.runs_failed_24h + h.deliveries_failed_24h
        total = h.runs_24h + h.deliveries_24h
        # "0%" of a thousand pushes said nothing failed: the count, and a rate that is never 0
        rate = (
            f"{h.error_rate:.0%}" if h.error_rate >= 0.01 else f"{h.error_rate:.1%}".replace("0.0%", "<0.1%")
        )
        problems.append(f"{failed} of {total} runs and deliveries failed over 24 h ({rate}).")
    if h.token_expiring and h.token_expires_at is not None:
        past = h.token_expires_at <= now
        problems.append(f"Token {'expired' if past else 'expires'} {h.token_expires_at:%Y-%m-%d %H:%M}.")
    if h.reauth_due and h.refresh_expires_at is not None and h.status != ConnectionStatus.NEEDS_REAUTH:
        ends = f"{h.refresh_expires_at:%Y-%m-%d}"
        if h.refresh_expires_at <= now:
            problems.append(f"The sign-in ran out on {ends}: re-authorise.")
        else:
            text = oauth.reauth_text(h.refresh_expires_at, now)
            problems.append(f"R{text[1:]} (the sign-in runs out {ends}).")
    if h.api_version_sunsetting and h.api_version_sunset is not None:
        problems.append(f"API version {h.api_version} is retired on {h.api_version_sunset.isoformat()}.")
    return ConnectionHealth(**{**h.__dict__, "problems": tuple(problems)})


def health_check(*, connection: Connection) -> SyncRun:
    """Re-register the tool's missing webhooks; the run counts created (registered) and skipped (present)."""
    run = SyncRun.objects.create(connection=connection, job=SyncJob.HEALTH, object_type="webhook")
    still_missing: list[str] = []
    try:
        connector = registry.connector_for(connection, sync_run_id=run.pk)
        wanted = list(connector.webhook_topics)
        present = set(connector.list_webhooks()) if wanted else set()
        address = hook_url(connection)
        for topic in wanted:
            if topic in present:
                run.skipped += 1
                continue
            try:
                connector.register_webhook(topic, address)
            except Exception as exc:
                still_missing.append(topic)
                run.failed += 1
                run.errors.append({"level": "error", "message": f"Could not register {topic}: {exc}"})
            else:
                run.created += 1
        Connection.objects.filter(pk=connection.pk).update(
            webhooks_missing=still_missing, webhooks_checked_at=timezone.now()
        )
        connection.webhooks_missing, connection.webhooks_checked_at = still_missing, timezone.now()
    except Exception as exc:
        run.status = SyncRunStatus.FAILED
        run.errors.append({"level": "error", "message": f"{type(exc).__name__}: {exc}"})
        if not hasattr(exc, "title"):
            logger.exception("Health check of connection %s failed", connection.pk)
    report = connection_health(connection)
    if report.token_expiring or report.api_version_sunsetting or report.reauth_due:
        run.errors.extend(
            {"level": "warning", "message": p}
            for p in report.problems
            if p.startswith(("Token", "API version", "Re-authorise", "The sign-in"))
        )
    return inbound.run_finish(run)


def connection_test(*, connection: Connection) -> SyncRun:
    """One cheap authenticated call to the tool; the run says whether it worked and what it answered."""
    run = SyncRun.objects.create(connection=connection, job=SyncJob.TEST)
    now = timezone.now()
    try:
        answer = registry.connector_for(connection, sync_run_id=run.pk).test()
    except Exception as exc:
        run.failed = 1
        run.errors.append({"level": "error", "message": f"{type(exc).__name__}: {exc}"})
        Connection.objects.filter(pk=connection.pk).update(last_failure_at=now, last_error=str(exc)[:2000])
    else:
        run.errors.append({"level": "info", "message": str(answer)})
        Connection.objects.filter(pk=connection.pk).update(last_success_at=now)
    return inbound.run_finish(run)


def health_checkable() -> list[int]:
    return list(Connection.objects.filter(status=ConnectionStatus.ACTIVE).values_list("pk", flat=True))
