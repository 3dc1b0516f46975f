"""Polling: pull what changed since the cursor, so a missed webhook is caught.

``poll(connection=, object_type=)`` pulls pages from ``connector.pull`` starting
INTEGRATIONS_POLL_OVERLAP_SECONDS (default 300) before the stored cursor (the
overlap catches records written while the last poll ran, and clock skew). The
first poll of a connection looks back INTEGRATIONS_POLL_INITIAL_LOOKBACK_SECONDS
(default 86400). Every pulled item is stored as an InboundEvent with source "poll"
and ``external_id = poll:<object type>:<id>:<updated_at>``, so a record seen again
in the overlap (or already seen by a webhook's poll twin) is a duplicate for free,
and is processed through the same path as a webhook, in the poll's SyncRun.

The cursor (the greatest updated_at seen, the tool's own clock) is written only
after the last page's events have been stored and committed: a poll that fails
half-way leaves it where it was, and the next poll pulls the same window again
(already stored records are duplicates, nothing is applied twice). HTTP requests
are made outside any transaction, so their log rows commit as they happen.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from erp.exceptions import ValidationFailed
from integrations import inbound, registry
from integrations.canonical import encode_item
from integrations.contract import Capability, InboundItem
from integrations.models import Connection, ConnectionStatus, InboundEvent, SyncJob, SyncRun, SyncRunStatus

logger = logging.getLogger(__name__)


def overlap() -> datetime.timedelta:
    return datetime.timedelta(seconds=float(settings.INTEGRATIONS_POLL_OVERLAP_SECONDS))


def initial_lookback() -> datetime.timedelta:
    return datetime.timedelta(seconds=float(settings.INTEGRATIONS_POLL_INITIAL_LOOKBACK_SECONDS))


def max_pages() -> int:
    return int(settings.INTEGRATIONS_POLL_MAX_PAGES)


def poll_event_id(object_type: str, item: InboundItem) -> str:
    stamp = item.updated_at.isoformat() if item.updated_at else "-"
    return f"poll:{object_type}:{item.external_id}:{stamp}"


def store_item(connection: Connection, object_type: str, item: InboundItem) -> tuple[InboundEvent, bool]:
    """Store one pulled item as a poll event (not enqueued: the caller processes it)."""
    return inbound.store_event(
        connection=connection,
        source=InboundEvent.Source.POLL,
        external_id=poll_event_id(object_type, item),
        topic=f"poll:{object_type}",
        headers={},
        body=encode_item(item),
        enqueue=False,
    )


def _cursor(connection: Connection, object_type: str) -> datetime.datetime | None:
    raw = (connection.cursors or {}).get(object_type)
    if not raw:
        return None
    try:
        return datetime.datetime.fromisoformat(str(raw))
    except ValueError:
        return None


def _move_cursor(connection: Connection, object_type: str, to: datetime.datetime) -> None:
    """Merge the new cursor under the connection's row lock (never moving it back)."""
    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=connection.pk)
        cursors = dict(row.cursors or {})
        current = _cursor(row, object_type)
        if current is None or to > current:
            cursors[object_type] = to.isoformat()
            Connection.objects.filter(pk=row.pk).update(cursors=cursors)
            connection.cursors = cursors


def poll(*, connection: Connection, object_type: str, full: bool = False) -> SyncRun:
    """Pull, store and process the records changed since the cursor; the SyncRun says how it went.

    ``full`` pulls everything the tool has (a first import of its products), whatever the cursor.
    """
    before = _cursor(connection, object_type)
    since: datetime.datetime | None = None  # everything, for a full import
    if not full:
        since = before - overlap() if before else timezone.now() - initial_lookback()
    run = SyncRun.objects.create(
        connection=connection,
        job=SyncJob.IMPORT if full else SyncJob.POLL,
        object_type=object_type,
        cursor_before=before.isoformat() if before else "",
    )
    seen: datetime.datetime | None = None
    try:
        connector = registry.connector_for(connection, sync_run_id=run.pk)
        page: str | None = None
        for _ in range(max_pages()):
            result = connector.pull(object_type, since=since, page=page)
            with transaction.atomic():
                stored = [store_item(connection, object_type, item) for item in result.items]
            for item in result.items:
                if item.updated_at and (seen is None or item.updated_at > seen):
                    seen = item.updated_at
            for event, created in stored:
                if created:
                    inbound.inbound_process(event.pk, run=run)
                else:
                    run.skipped += 1
            page = result.next_page
            if not page:
                break
        else:
            run.errors.append(
                {"level": "warning", "message": f"Stopped after {max_pages()} pages; the next poll goes on."}
            )
    except Exception as exc:
        run.status = SyncRunStatus.FAILED
        run.errors.append({"level": "error", "message": f"{type(exc).__name__}: {exc}"})
        if not hasattr(exc, "title"):
            logger.exception("Polling %s of connection %s failed", object_type, connection.pk)
        _note_failure(connection, str(exc))
    else:
        if seen is not None:
            _move_cursor(connection, object_type, seen)
        _note_success(connection)
    run.cursor_after = str((connection.cursors or {}).get(object_type, ""))
    return inbound.run_finish(run)


def import_all(*, connection: Connection, object_type: str) -> SyncRun:
    """Import every record of ``object_type`` (products: create or link by SKU), once or again."""
    return poll(connection=connection, object_type=object_type, full=True)


def require_products_in(connection: Connection) -> None:
    """Refuse a product import for a connector that does not bring products in."""
    cls = registry.get(connection.connector)
    if Capability.PRODUCTS_IN not in cls.capabilities:
        raise ValidationFailed(f"{cls.name} does not bring products in.")


def import_products(*, connection: Connection) -> SyncRun:
    """Every product of the tool, created here or linked by SKU: a first import, or a repair."""
    require_products_in(connection)
    return import_all(connection=connection, object_type="product")


def _note_success(connection: Connection) -> None:
    now = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(last_success_at=now)
    connection.last_success_at = now


def _note_failure(connection: Connection, message: str) -> None:
    now = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(last_failure_at=now, last_error=message[:2000])
    connection.last_failure_at, connection.last_error = now, message[:2000]


def pollable() -> list[tuple[int, str]]:
    """(connection id, object type) for every active connection whose connector polls."""
    pairs: list[tuple[int, str]] = []
    rows: Any = Connection.objects.filter(status=ConnectionStatus.ACTIVE).values_list("pk", "connector")
    for pk, key in rows:
        try:
            cls = registry.get(key)
        except registry.UnknownConnector:
            continue
        pairs.extend((pk, object_type) for object_type in cls.poll_object_types)
    return pairs
