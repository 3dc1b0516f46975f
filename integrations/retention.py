"""Data kept only as long as needed: the raw bodies the hub stores are purged once nothing needs them.

What is purged (``purge``, daily from beat: ``integrations.tasks.purge_retention_task``):

* An inbound event's body and headers, INTEGRATIONS_RETAIN_INBOUND_BODY_DAYS (30) after it was
  processed or skipped. An event that may still be replayed (received, failed, quarantined, dead)
  keeps its body whatever its age: a replay processes the stored body again. A purged event keeps
  its metadata (topic, status, result, times) and says so in its result (``body_purged``: when,
  after how many days); it can no longer be replayed (``check_replayable``). The same event
  delivered or re-read again brings its body back (``refill``).
* The request log's bodies and headers, INTEGRATIONS_RETAIN_REQUEST_LOG_DAYS (14) after the
  request (both bodies then read ``LOG_PURGED``); its rows, an audit of what was called when with
  what outcome, INTEGRATIONS_RETAIN_REQUEST_LOG_ROWS_DAYS (90) after it.

Personal data (``Connector.personal_fields``) never reaches the request log in the first place
(``integrations.http.Redactor``); the stored bodies keep it for the appliers until this purge.

Every step works in batches of INTEGRATIONS_RETENTION_BATCH_SIZE rows by primary key (a batch of
ids is read, then only those rows are written), so no statement touches an unbounded number of
rows. Rows already purged leave the partial indexes the candidates are read from
(migration 0007_retention), so a daily run reads only what expired since the last one. Running it
again changes nothing.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from erp.exceptions import DomainError
from integrations.models import InboundEvent, InboundStatus, RequestLog

if TYPE_CHECKING:
    from integrations.contract import Connector

logger = logging.getLogger(__name__)

# Only a finished event that no one replays loses its body.
PURGEABLE = (InboundStatus.PROCESSED, InboundStatus.SKIPPED)
PURGED_KEY = "body_purged"  # in InboundEvent.result: {"at": ISO time, "days": N}
LOG_PURGED = "[body purged]"  # a purged request log row's request and response body


def inbound_body_days() -> int:
    return int(settings.INTEGRATIONS_RETAIN_INBOUND_BODY_DAYS)


def request_log_days() -> int:
    return int(settings.INTEGRATIONS_RETAIN_REQUEST_LOG_DAYS)


def request_log_rows_days() -> int:
    return int(settings.INTEGRATIONS_RETAIN_REQUEST_LOG_ROWS_DAYS)


def batch_size() -> int:
    return max(1, int(settings.INTEGRATIONS_RETENTION_BATCH_SIZE))


# --- what is kept, for a connection's page ------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """What the hub keeps of a connection's traffic, and for how long."""

    inbound_body_days: int
    request_log_days: int
    request_log_rows_days: int
    personal_fields: tuple[str, ...]


def policy(connector_cls: type[Connector] | None = None) -> Policy:
    """No queries: the settings, and the connector's declaration."""
    fields = sorted(connector_cls.personal_fields, key=str.lower) if connector_cls is not None else []
    return Policy(inbound_body_days(), request_log_days(), request_log_rows_days(), tuple(fields))


# --- a purged event -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeNote:
    days: int
    at: datetime.datetime | None


def purge_note(event: InboundEvent) -> PurgeNote | None:
    """When and after how many days the event's body was purged; None while it has its body."""
    mark = event.result.get(PURGED_KEY) if isinstance(event.result, dict) else None
    if not isinstance(mark, dict):
        return None
    at = parse_datetime(str(mark.get("at") or ""))
    try:
        days = int(mark.get("days") or 0)
    except (TypeError, ValueError):
        days = 0
    return PurgeNote(days=days, at=at)


def is_purged(event: InboundEvent) -> bool:
    return purge_note(event) is not None


def check_replayable(event: InboundEvent) -> None:
    """Refuse to replay an event whose body was purged: there is nothing left to process."""
    note = purge_note(event)
    if note is None:
        return
    raise DomainError(
        f"Event {event.external_id} cannot be replayed: its body was purged {note.days} days after "
        "it was processed (data retention). Poll or reconcile the connection to read the record "
        "from the tool again."
    )


def refill(event: InboundEvent, *, headers: dict[str, Any], body: bytes) -> InboundEvent:
    """The same event stored again (a redelivery, a re-read by polling or reconciliation): a purged
    one gets its body back, so that it can be replayed; purged again once its time is up."""
    if not is_purged(event) or not body:
        return event
    event.body, event.headers = body, headers
    event.result = {k: v for k, v in event.result.items() if k != PURGED_KEY}
    event.save(update_fields=["body", "headers", "result"])
    return event


# --- the purge ----------------------------------------------------------------------------------


@dataclass
class PurgeReport:
    """What one run purged: counts of rows, and how many batches it took."""

    now: datetime.datetime
    inbound_bodies: int = 0
    request_log_bodies: int = 0
    request_log_rows: int = 0
    batches: int = 0
    cutoffs: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.inbound_bodies + self.request_log_bodies + self.request_log_rows

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["now"] = self.now.isoformat()
        return data


def purge(now: datetime.datetime | None = None, *, size: int | None = None) -> PurgeReport:
    """Purge what has been kept long enough (see the module doc); idempotent."""
    now = now or timezone.now()
    size = size or batch_size()
    report = PurgeReport(now=now)
    _purge_inbound_bodies(report, now, size)
    # Rows first: no point purging the bodies of rows about to go.
    _delete_request_log_rows(report, now, size)
    _purge_request_log_bodies(report, now, size)
    if report.total:
        logger.info(
            "Retention: %s inbound bodies, %s request log bodies purged, %s request log rows deleted.",
            report.inbound_bodies,
            report.request_log_bodies,
            report.request_log_rows,
        )
    return report


def _batches(candidates: QuerySet[Any], size: int) -> Iterator[list[int]]:
    """The candidates' ids, ``size`` at a time, in primary-key order (keyset: a row left as it was,
    locked by another worker, is not read again in this run)."""
    last = 0
    while True:
        ids = list(candidates.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            return
        yield ids
        if len(ids) < size:
            return
        last = ids[-1]


def _expired_inbound(cutoff: datetime.datetime) -> QuerySet[InboundEvent]:
    # Served by the partial index integrations_inbound_purge_idx (the same condition).
    return InboundEvent.objects.filter(status__in=PURGEABLE, processed_at__lt=cutoff).exclude(body=b"")


def _purge_inbound_bodies(report: PurgeReport, now: datetime.datetime, size: int) -> None:
    days = inbound_body_days()
    cutoff = now - datetime.timedelta(days=days)
    report.cutoffs["inbound_bodies"] = cutoff.isoformat()
    mark = {"at": now.isoformat(), "days": days}
    for ids in _batches(_expired_inbound(cutoff), size):
        with transaction.atomic():
            # Checked again under the rows' locks: an event replayed meanwhile keeps its body.
            rows = list(
                _expired_inbound(cutoff)
                .filter(pk__in=ids)
                .select_for_update(skip_locked=True)
                .only("pk", "result")
            )
            for row in rows:
                row.body, row.headers = b"", {}
                row.result = {**(row.result if isinstance(row.result, dict) else {}), PURGED_KEY: mark}
            InboundEvent.objects.bulk_update(rows, ["body", "headers", "result"])
        report.inbound_bodies += len(rows)
        report.batches += 1


def _purge_request_log_bodies(report: PurgeReport, now: datetime.datetime, size: int) -> None:
    cutoff = now - datetime.timedelta(days=request_log_days())
    report.cutoffs["request_log_bodies"] = cutoff.isoformat()
    # Served by the partial index integrations_reqlog_purge_idx (the same condition).
    candidates = RequestLog.objects.filter(created_at__lt=cutoff).exclude(response_body=LOG_PURGED)
    _each_batch(
        report,
        candidates,
        size,
        lambda ids: RequestLog.objects.filter(pk__in=ids).update(
            request_body=LOG_PURGED, response_body=LOG_PURGED, request_headers={}, response_headers={}
        ),
        "request_log_bodies",
    )


def _delete_request_log_rows(report: PurgeReport, now: datetime.datetime, size: int) -> None:
    cutoff = now - datetime.timedelta(days=request_log_rows_days())
    report.cutoffs["request_log_rows"] = cutoff.isoformat()
    candidates = RequestLog.objects.filter(created_at__lt=cutoff)  # its created_at index
    _each_batch(
        report,
        candidates,
        size,
        lambda ids: RequestLog.objects.filter(pk__in=ids).delete()[0],
        "request_log_rows",
    )


def _each_batch(
    report: PurgeReport, candidates: QuerySet[Any], size: int, act: Callable[[list[int]], int], count: str
) -> None:
    for ids in _batches(candidates, size):
        done = act(ids)
        setattr(report, count, getattr(report, count) + done)
        report.batches += 1
