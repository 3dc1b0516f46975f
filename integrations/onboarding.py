"""The hub's step of the getting-started checklist (erp.onboarding): each tool connected, with its
first sync and its first reconciliation; and the demo's part of it (``seed_first_runs``: the
first runs, once the demo is saved).

Done when at least one connection is active and every active connection has a finished sync that
did not fail (an import, a poll, a push or a webhook processed) and, when its connector reconciles,
a finished reconciliation that did not fail. One query, whatever the number of connections.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils import timezone

from erp import demo
from erp.onboarding import ChecklistStep, register
from integrations import registry
from integrations.models import Connection, ConnectionStatus, SyncJob, SyncRun, SyncRunStatus

SYNC_JOBS = (SyncJob.IMPORT, SyncJob.POLL, SyncJob.PUSH, SyncJob.WEBHOOK)
FINISHED_OK = (SyncRunStatus.SUCCEEDED, SyncRunStatus.PARTIAL)
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectionSetup:
    pk: int
    name: str
    connector: str
    synced: bool
    reconciled: bool
    reconciles: bool  # its connector reconciles something

    @property
    def done(self) -> bool:
        return self.synced and (self.reconciled or not self.reconciles)


def _runs(*jobs: str) -> Exists:
    return Exists(
        SyncRun.objects.filter(
            connection=OuterRef("pk"), job__in=jobs, status__in=FINISHED_OK, finished_at__isnull=False
        )
    )


def active_connections_setup() -> list[ConnectionSetup]:
    """Each active connection with whether it has synced and reconciled (one query)."""
    rows = (
        Connection.objects.filter(status=ConnectionStatus.ACTIVE)
        .annotate(synced=_runs(*SYNC_JOBS), reconciled=_runs(SyncJob.RECONCILE))
        .order_by("name")
        .values_list("pk", "name", "connector", "synced", "reconciled")
    )
    found = []
    for pk, name, key, synced, reconciled in rows:
        try:
            reconciles = bool(registry.get(key).reconcile_object_types)
        except registry.UnknownConnector:
            reconciles = False
        found.append(ConnectionSetup(pk, name, key, bool(synced), bool(reconciled), reconciles))
    return found


def tools_done(request: HttpRequest) -> bool:
    setups = active_connections_setup()
    return bool(setups) and all(s.done for s in setups)


register(
    ChecklistStep(
        key="tools",
        order=50,
        title="Tools connected: first import and reconciliation",
        detail="Connect each tool, run its first import or sync, then a reconciliation: both sides agree.",
        url_name="integrations:index",
        done=tools_done,
        area="integrations",
    )
)


def first_runs() -> list[str]:
    """Each active connection without them gets its first sync and reconciliation: a poll of its
    first polled record type, a reconciliation of its first reconciled one (inventory if it has it).
    Drifts are reported, not healed."""
    from integrations import polling, reconcile

    lines = []
    for setup in active_connections_setup():
        if setup.done:
            continue
        connection = Connection.objects.get(pk=setup.pk)
        cls = registry.get(setup.connector)
        ran = []
        if not setup.synced and cls.poll_object_types:
            object_type = cls.poll_object_types[0]
            run = _patiently(
                connection, partial(polling.poll, connection=connection, object_type=object_type)
            )
            ran.append(f"poll of {run.object_type}: {run.status}")
        if setup.reconciles and not setup.reconciled:
            types = cls.reconcile_object_types
            kind = "inventory" if "inventory" in types else types[0]
            run = _patiently(
                connection, partial(reconcile.reconcile, connection=connection, object_type=kind, heal=False)
            )
            ran.append(f"reconciliation of {kind}: {run.status}")
        if ran:
            lines.append(f"integrations: {setup.name}'s first runs: {', '.join(ran)}")
    for line in lines:
        logger.info(line)
    return lines


FIRST_RUN_TRIES = 3
FIRST_RUN_WAIT_MAX = 60.0  # seconds: a longer wait is the hourly jobs' to sit out


def _patiently(connection: Connection, run_once: Callable[[], SyncRun]) -> SyncRun:
    """A first run, tried again once the connection's rate limit has passed if that is what failed
    it: the demo's own pushes (a thousand to QuickBooks) use up the limit just before, and a first
    reconciliation refused for 5 s left the getting-started checklist at 5 of 6."""
    run = run_once()
    for _ in range(FIRST_RUN_TRIES - 1):
        if run.status != SyncRunStatus.FAILED:
            break
        until = Connection.objects.filter(pk=connection.pk).values_list("throttled_until", flat=True).first()
        wait = (until - timezone.now()).total_seconds() if until is not None else 0.0
        if not 0 < wait <= FIRST_RUN_WAIT_MAX:
            break
        time.sleep(wait + 0.1)
        run = run_once()
    return run


def seed_first_runs() -> list[str]:
    """The demo's part: the first runs against the demo's fakes, once the demo is committed and the
    pushes it set off have reached the tools (so a reconciliation compares what both sides really
    hold, not what was still on its way)."""
    transaction.on_commit(first_runs)
    return ["integrations: each demo connection's first sync and reconciliation run once the demo is saved"]


demo.register(39, "integrations-first-runs", seed_first_runs)
