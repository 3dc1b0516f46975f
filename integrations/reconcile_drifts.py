"""Recording what reconciliation finds: one open Drift per record and kind, refreshed by later
runs and closed once no longer found, and the run's count per kind."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.models import (
    Drift,
    DriftStatus,
    SyncRun,
)

INVENTORY = "inventory"
QUANTITY_MISMATCH, MISSING_THERE = "quantity_mismatch", "missing_there"
MISSING_HERE, DUPLICATE_HERE = "missing_here", "duplicate_here"
STATUS_MISMATCH, TOTAL_MISMATCH = "status_mismatch", "total_mismatch"
FULFILMENT_MISSING_HERE, TRACKING_MISMATCH = "fulfilment_missing_here", "tracking_mismatch"
REFUND_MISSING_HERE, VALUE_MISMATCH = "refund_missing_here", "value_mismatch"
VOIDED_THERE, BALANCE_MISMATCH = "voided_there", "balance_mismatch"
# Order drifts a re-read of the order through the inbound path can heal.
HEALED_BY_READING = frozenset({MISSING_HERE, STATUS_MISMATCH, FULFILMENT_MISSING_HERE, REFUND_MISSING_HERE})
# Healable drifts a run never heals by itself, even when asked to: a document voided in the tool is
# pushed again only when a person says so (or voids ours too: the books are ours to decide).
HEALED_ON_DEMAND = frozenset({VOIDED_THERE})


# --- recording drifts -----------------------------------------------------------------------------


def record(run: SyncRun, object_type: str, external_id: str, kind: str, **values: Any) -> Drift:
    drift = Drift.objects.filter(
        connection_id=run.connection_id,
        object_type=object_type,
        external_id=external_id,
        kind=kind,
        status=DriftStatus.OPEN,
    ).first()
    if drift is None:
        run.created += 1
        return Drift.objects.create(
            connection_id=run.connection_id,
            sync_run=run,
            object_type=object_type,
            external_id=external_id,
            kind=kind,
            **values,
        )
    run.updated += 1
    for name, value in values.items():
        setattr(drift, name, value)
    drift.sync_run = run
    drift.save()
    return drift


@dataclass(frozen=True)
class Finding:
    """One difference a comparison found, before it is recorded as a Drift."""

    external_id: str
    kind: str
    label: str
    hub_value: str
    tool_value: str
    healable: bool


def record_all(run: SyncRun, object_type: str, findings: Iterable[Finding]) -> list[Drift]:
    """Record what was found (in one transaction) and close the open drifts no longer found."""
    with transaction.atomic():
        found = [
            record(
                run,
                object_type,
                f.external_id,
                f.kind,
                label=f.label[:255],
                hub_value=f.hub_value[:255],
                tool_value=f.tool_value[:255],
                healable=f.healable,
            )
            for f in findings
        ]
        close_the_rest(run, object_type, found)
    return found


def count_kinds(run: SyncRun, found: list[Drift]) -> None:
    """The run's report: how many drifts of each kind it found (most first), as a message and as
    numbers (``drifts``) for whoever reads the run."""
    if not found:
        return
    counts = Counter(drift.kind for drift in found)
    kinds = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{n} {kind}" for kind, n in kinds)
    noun = "drift" if len(found) == 1 else "drifts"
    run.errors.append({"level": "info", "message": f"{len(found)} {noun}: {text}.", "drifts": dict(kinds)})


def close_the_rest(run: SyncRun, object_type: str, found: list[Drift]) -> None:
    Drift.objects.filter(
        connection_id=run.connection_id, object_type=object_type, status=DriftStatus.OPEN
    ).exclude(pk__in=[d.pk for d in found]).update(status=DriftStatus.RESOLVED, resolved_at=timezone.now())
