"""The hub's step of the getting-started checklist (erp.onboarding): each tool connected, with its
first sync and its first reconciliation; and the demo's part of it (``seed_first_runs``: the
first runs, once the demo is saved).

Done when at least one connection is active and every active connection has a finished sync that
did not fail (an import, a poll, a push or a webhook processed) and, when its connector reconciles,
a finished reconciliation that did not fail. One query, whatever the number of connections.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import HttpRequest

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
            run = polling.poll(connection=connection, object_type=cls.poll_object_types[0])
            ran.append(f"poll of {run.object_type}: {run.status}")
        if setup.reconciles and not setup.reconciled:
            types = cls.reconcile_object_types
            object_type = "inventory" if "inventory" in types else types[0]
            run = reconcile.reconcile(connection=connection, object_type=object_type, heal=False)
            ran.append(f"reconciliation of {object_type}: {run.status}")
        if ran:
            lines.append(f"integrations: {setup.name}'s first runs: {', '.join(ran)}")
    for line in lines:
        logger.info(line)
    return lines


def seed_first_runs() -> list[str]:
    """The demo's part: the first runs against the demo's fakes, once the demo is committed and the
    pushes it set off have reached the tools (so a reconciliation compares what both sides really
    hold, not what was still on its way)."""
    transaction.on_commit(first_runs)
    return ["integrations: each demo connection's first sync and reconciliation run once the demo is saved"]


demo.register(39, "integrations-first-runs", seed_first_runs)
