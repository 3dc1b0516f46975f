"""Polling: pull what changed since the cursor, so a missed webhook is caught.

``poll(connection=, object_type=)`` pulls pages from ``connector.pull`` starting
INTEGRATIONS_POLL_OVERLAP_SECONDS (default 300) before the stored cursor (the
overlap catches records written while the last poll ran, and clock skew). The
first poll of a connection looks back INTEGRATIONS_POLL_INITIAL_LOOKBACK_SECONDS
(default 86400). Every pulled item is stored as an InboundEvent with source "poll"
and ``external_id = poll:<object type>:<id>:<updated_at>``, so a record seen again
in the overlap (or already seen by a webhook's poll twin) is a duplicate for free,
and is processed through the same path as a webhook, in the poll's SyncRun.

The cursor (the greatest updated_at seen, the tool's own clock) moves when the
last page's events are stored and committed. Before that, each page's position
(the window's start, the tool's page token for the next page, the greatest
updated_at so far: ``cursors["<type>:resume"]``, or ``"<type>:import:resume"`` for
a full import) is saved in the transaction that stores the page's events, so a
poll stopped by the tool's rate limit (``Throttled``: a 429, or the hub's own
bucket), by INTEGRATIONS_POLL_MAX_PAGES or by a killed worker resumes from the
next page instead of starting the backlog over. A throttled poll ends "partial"
with a warning, not failed. A poll that fails (a 5xx, a page token the tool
refuses) drops the position and leaves the cursor where it was: the next poll
pulls the same window again (already stored records are duplicates, nothing is
applied twice). HTTP requests are made outside any transaction, so their log rows
commit as they happen.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from erp.exceptions import ValidationFailed
from integrations import inbound, registry
from integrations.canonical import encode_item
from integrations.contract import Capability, InboundItem
from integrations.errors import Throttled
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


def _move_cursor(
    connection: Connection,
    object_type: str,
    to: datetime.datetime | None,
    *,
    resume: tuple[str, dict[str, Any] | None] | None = None,
) -> None:
    """Merge the new cursor under the connection's row lock (never moving it back), and set
    (a dict) or drop (None) a resume position (``(key, position)``)."""
    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=connection.pk)
        cursors = dict(row.cursors or {})
        current = _cursor(row, object_type)
        if to is not None and (current is None or to > current):
            cursors[object_type] = to.isoformat()
        if resume is not None:
            key, position = resume
            if position is None:
                cursors.pop(key, None)
            else:
                cursors[key] = position
        if cursors != (row.cursors or {}):
            Connection.objects.filter(pk=row.pk).update(cursors=cursors)
        connection.cursors = cursors


@dataclass(frozen=True)
class Position:
    """Where an unfinished poll goes on: the window it pulls, the tool's token for its next page,
    and the greatest updated_at seen so far."""

    since: datetime.datetime | None
    page: str
    seen: datetime.datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "page": self.page,
            "seen": self.seen.isoformat() if self.seen else None,
        }

    @classmethod
    def of(cls, raw: Any) -> Position | None:
        if not isinstance(raw, dict) or not raw.get("page"):
            return None
        try:
            since = datetime.datetime.fromisoformat(raw["since"]) if raw.get("since") else None
            seen = datetime.datetime.fromisoformat(raw["seen"]) if raw.get("seen") else None
        except (TypeError, ValueError):
            return None
        return cls(since, str(raw["page"]), seen)


def resume_key(object_type: str, full: bool = False) -> str:
    return f"{object_type}:import:resume" if full else f"{object_type}:resume"


def resume_position(connection: Connection, object_type: str, full: bool = False) -> Position | None:
    """Where the next poll of ``object_type`` goes on from, if the last one stopped half-way."""
    return Position.of((connection.cursors or {}).get(resume_key(object_type, full)))


def _later(a: datetime.datetime | None, b: datetime.datetime | None) -> datetime.datetime | None:
    return b if a is None or (b is not None and b > a) else a


def poll(*, connection: Connection, object_type: str, full: bool = False, progress: Any = None) -> SyncRun:
    """Pull, store and process the records changed since the cursor; the SyncRun says how it went.

    ``full`` pulls everything the tool has (a first import of its products), whatever the cursor.
    A poll that stopped half-way (throttled, out of pages, killed) goes on from its saved position.
    ``progress`` (a background job's, erp.jobs.Progress) is told of each page and record.
    """
    before = _cursor(connection, object_type)
    key = resume_key(object_type, full)
    resumed = resume_position(connection, object_type, full)
    since: datetime.datetime | None = None  # everything, for a full import
    if resumed is not None:
        since = resumed.since
    elif not full:
        since = before - overlap() if before else timezone.now() - initial_lookback()
    run = SyncRun.objects.create(
        connection=connection,
        job=SyncJob.IMPORT if full else SyncJob.POLL,
        object_type=object_type,
        cursor_before=before.isoformat() if before else "",
    )
    seen: datetime.datetime | None = resumed.seen if resumed else None
    page: str | None = resumed.page if resumed else None
    if resumed is not None:
        run.errors.append({"level": "info", "message": f"Resumed at page {page} of the last poll."})
    pages = 0
    try:
        connector = registry.connector_for(connection, sync_run_id=run.pk)
        for _ in range(max_pages()):
            if progress is not None:
                progress.step(f"Reading page {pages + 1} of {object_type}s from {connection.name}")
            result = connector.pull(object_type, since=since, page=page)
            page_seen = seen
            for item in result.items:
                page_seen = _later(page_seen, item.updated_at)
            with transaction.atomic():
                stored = [store_item(connection, object_type, item) for item in result.items]
                # The page's position commits with its events: a poll stopped after it goes on from here.
                if result.next_page:
                    position = Position(since, result.next_page, page_seen).as_json()
                    _move_cursor(connection, object_type, None, resume=(key, position))
                else:  # the last page: the window is done
                    _move_cursor(connection, object_type, page_seen, resume=(key, None))
            seen, pages = page_seen, pages + 1
            if progress is not None:
                progress.step(f"Page {pages}: {len(stored)} {object_type}s")
            for event, created in stored:
                if created:
                    inbound.inbound_process(event.pk, run=run)
                else:
                    run.skipped += 1
                if progress is not None:
                    progress.advance()
            page = result.next_page
            if not page:
                break
        else:
            run.errors.append(
                {"level": "warning", "message": f"Stopped after {max_pages()} pages; the next poll goes on."}
            )
    except Throttled as exc:
        # Not a failure: the tool (or the hub's bucket for it) says wait. What was committed stays,
        # and the next poll goes on from the page after it.
        where = f"page {page}" if page else "the first page"
        run.errors.append(
            {
                "level": "warning",
                "message": f"Throttled after {pages} pages: {exc} The next poll goes on from {where}.",
            }
        )
    except Exception as exc:
        run.status = SyncRunStatus.FAILED
        run.errors.append({"level": "error", "message": f"{type(exc).__name__}: {exc}"})
        if not hasattr(exc, "title"):
            logger.exception("Polling %s of connection %s failed", object_type, connection.pk)
        # The window is pulled again from its start: the failure may be the position itself
        # (a page token the tool no longer takes).
        _move_cursor(connection, object_type, None, resume=(key, None))
        _note_failure(connection, str(exc))
    else:
        _note_success(connection)
    run.cursor_after = str((connection.cursors or {}).get(object_type, ""))
    return inbound.run_finish(run)


def import_all(*, connection: Connection, object_type: str, progress: Any = None) -> SyncRun:
    """Import every record of ``object_type`` (products: create or link by SKU), once or again."""
    return poll(connection=connection, object_type=object_type, full=True, progress=progress)


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
