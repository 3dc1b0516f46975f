"""The hub's background jobs (erp.jobs), on the integrations queue: a reconciliation of a
connection (object type by object type), a product import from a tool (page by page, product by
product), and the simulated business day (order by order).

Each runs the same services the synchronous paths ran (``reconcile.reconcile``,
``polling.import_all``, ``integrations.simulate``), with their own transactions.

The simulated day creates its own connections, warehouse, supplier, stock and orders in the
current database, and for its whole run replaces the process's clock and mounts the tools' fakes
on the HTTP client: its kind is ``isolated`` (a process of its own, tasks in process), and it is
refused unless the demo fakes are on (``integrations.demo.fakes_enabled``: DEBUG or
ERP_DEMO_FAKES), the configuration where the app serves fakes rather than talks to real tools.
"""

from __future__ import annotations

import random
from typing import Any

from django.conf import settings
from django.urls import reverse

from erp.access import AREAS, user_can
from erp.jobs import INTEGRATIONS_QUEUE, JobFailed, Progress, register_kind
from erp.models import Job
from integrations import demo, polling, reconcile, registry
from integrations.models import Connection, DriftStatus, SyncRun, SyncRunStatus

RECONCILE = "reconcile"
PRODUCT_IMPORT = "product_import"
SIMULATE_DAY = "simulate_day"
COUNTED = ("created", "updated", "skipped", "failed")


def _connection(job: Job) -> Connection:
    connection = Connection.objects.filter(pk=job.params.get("connection")).first()
    if connection is None:
        raise JobFailed("The connection no longer exists.")
    return connection


def _run_errors(runs: list[SyncRun]) -> list[dict[str, str]]:
    errors = []
    for run in runs:
        for error in run.errors or []:
            if isinstance(error, dict):
                level, message = str(error.get("level") or "error"), str(error.get("message") or error)
            else:
                level, message = "error", str(error)
            if level != "info":
                errors.append({"where": f"{run.object_type or run.job} ({level})", "message": message})
    return errors


def _counts(runs: list[SyncRun]) -> dict[str, int]:
    return {name.capitalize(): sum(getattr(r, name) for r in runs) for name in COUNTED}


def _sync_links(connection: Connection, runs: list[SyncRun]) -> list[dict[str, str]]:
    links = [
        {"label": f"Sync run #{r.pk} ({r.object_type})", "url": reverse("integrations:sync-run", args=[r.pk])}
        for r in runs
    ]
    return [
        *links,
        {"label": connection.name, "url": reverse("integrations:connection", args=[connection.pk])},
    ]


def run_reconcile(job: Job, progress: Progress) -> dict[str, Any]:
    connection = _connection(job)
    types = list(registry.get(connection.connector).reconcile_object_types)
    progress.total(len(types))
    runs = []
    for object_type in types:
        progress.step(f"Comparing {object_type} with {connection.name}")
        runs.append(reconcile.reconcile(connection=connection, object_type=object_type))
        progress.advance()
    open_drifts = connection.drifts.filter(status=DriftStatus.OPEN).count()
    failed = [r for r in runs if r.status == SyncRunStatus.FAILED]
    drifts_url = reverse("integrations:connection-drifts", args=[connection.pk])
    result = {
        "counts": {"Object types": len(runs), "Open drifts": open_drifts, "Failed": len(failed)},
        "errors": _run_errors(runs),
        "links": [{"label": "Drifts", "url": drifts_url}, *_sync_links(connection, runs)],
        "result_url": drifts_url,
    }
    if failed:
        raise JobFailed(
            f"Reconciliation of {', '.join(r.object_type for r in failed)} failed.", result=result
        )
    drifts = f"{open_drifts} open drift{'s' if open_drifts != 1 else ''}"
    result["summary"] = (
        f"Reconciliation of {connection.name} done: {drifts}." if runs else "Nothing to reconcile."
    )
    return result


def run_product_import(job: Job, progress: Progress) -> dict[str, Any]:
    connection = _connection(job)
    polling.require_products_in(connection)
    progress.step(f"Asking {connection.name} for its products")
    run = polling.import_all(connection=connection, object_type="product", progress=progress)
    run_url = reverse("integrations:sync-run", args=[run.pk])
    counted = _counts([run])
    result: dict[str, Any] = {
        "counts": counted,
        "errors": _run_errors([run]),
        "links": _sync_links(connection, [run]),
        "sync_run": run.pk,
        "result_url": run_url,
    }
    if run.status == SyncRunStatus.FAILED:
        raise JobFailed(f"The product import from {connection.name} failed.", result=result)
    counts = ", ".join(f"{n} {k.lower()}" for k, n in counted.items() if n) or "no changes"
    result["summary"] = f"Product import from {connection.name} done: {counts}."
    return result


# --- the simulated day -----------------------------------------------------------------------------


def simulation_allowed(user: Any) -> bool:
    """The day writes in every area (warehouse, stock, supplier, orders, connections): who may write
    every area may run it, and only where the demo fakes are on."""
    return demo.fakes_enabled() and all(user_can(user, area, "write") for area in AREAS)


def simulation_tools() -> list[str]:
    from integrations.simulate import books, shippers
    from integrations.simulate.tools import available

    return [*available(), *shippers.available(), *books.available()]


def run_simulate_day(job: Job, progress: Progress) -> dict[str, Any]:
    from integrations.simulate import Faults
    from integrations.simulate.day import Day
    from integrations.simulate.runner import run_embedded

    if not demo.fakes_enabled():
        raise JobFailed("The simulated day runs only where the demo fakes are on (DEBUG or ERP_DEMO_FAKES).")
    params = job.params
    orders = int(params.get("orders") or 0)
    seed = int(params.get("seed") or random.SystemRandom().randrange(1, 10**6))
    tools = [str(t) for t in params.get("tools") or ["shopify"]]

    class ReportingDay(Day):
        def after_step(self, index: int) -> None:
            super().after_step(index)
            progress.advance()
            if index + 1 < self.n:
                progress.step(f"Order {index + 2} of {self.n}, {self.clock().strftime('%H:%M')} simulated")
            else:
                progress.step("Evening: waiting for the tools and the hub to agree, then checking for drift")

    try:
        day = ReportingDay(
            orders=orders, seed=seed, faults=Faults.named(str(params.get("faults") or "default")), tools=tools
        )
    except ValueError as exc:
        raise JobFailed(str(exc)) from exc
    progress.step(f"Morning: connecting {', '.join(tools)} and stocking the warehouse")
    progress.total(orders)
    report = run_embedded(day)
    try:  # the hub's page shows the last day's report, as after `manage.py simulate_day`
        settings.INTEGRATIONS_SIMULATION_REPORT.parent.mkdir(parents=True, exist_ok=True)
        settings.INTEGRATIONS_SIMULATION_REPORT.write_text(report.to_json() + "\n")
    except OSError:
        pass  # the job's result keeps the report whatever the file system says
    result = {
        "summary": f"{report.orders} orders (seed {report.seed}) through {', '.join(report.tools)}: "
        + ("no drift, no failed event." if report.ok else f"{len(report.problems)} problem(s)."),
        "counts": {
            "Orders": report.orders,
            "Drifts": report.drift_count,
            "Dead letters": sum(v for v in report.dead_letters.values() if isinstance(v, int)),
            "Simulated minutes": report.simulated_minutes,
        },
        "errors": [{"where": "Day", "message": p} for p in report.problems],
        "links": [{"label": "Integration hub", "url": reverse("integrations:index")}],
        "report": report.summary_lines(),
        "result_url": reverse("integrations:index"),
    }
    if not report.ok:
        raise JobFailed("The simulated day found problems; see below.", result=result)
    return result


register_kind(RECONCILE, run_reconcile, area="integrations", label="Reconciliation", queue=INTEGRATIONS_QUEUE)
register_kind(
    PRODUCT_IMPORT, run_product_import, area="integrations", label="Product import", queue=INTEGRATIONS_QUEUE
)
register_kind(
    SIMULATE_DAY,
    run_simulate_day,
    area="integrations",
    label="Simulated day",
    queue=INTEGRATIONS_QUEUE,
    isolated=True,
)
