"""A connection: adding one from the catalogue, its overview with health, actions and who owns what,
its settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from erp import jobs
from erp.exceptions import DomainError
from erp.models import Job
from erp.ui import flash, is_htmx, toast
from integrations import connections as services
from integrations import (
    demo,
    field_owners,
    health,
    oauth,
    ownership,
    polling,
    registry,
    retention,
    routing,
    selectors,
)
from integrations.contract import Connector
from integrations.forms import ConnectionForm, FieldOwnersForm, OwnershipForm, add_domain_errors
from integrations.jobs import PRODUCT_IMPORT as PRODUCT_IMPORT_JOB
from integrations.jobs import RECONCILE as RECONCILE_JOB
from integrations.models import Connection, SyncRun, SyncRunStatus
from integrations.views.common import (
    ConnectorInfo,
    connection_context,
    get_connection,
    read,
    render_page,
    write,
)

RECENT_RUNS = 8


def _connector(key: str) -> type[Connector]:
    try:
        return registry.get(key)
    except registry.UnknownConnector:
        raise Http404(f"No connector {key}") from None


def back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Back to the page the form was on (a local ``next``), else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = default
    return HttpResponseRedirect(target or default)


@write
def connection_create(request: HttpRequest, connector: str) -> HttpResponse:
    cls = _connector(connector)
    form = ConnectionForm(request.POST or None, connector=cls)
    if request.method == "POST" and form.is_valid():
        try:
            connection = services.connection_create(
                connector=cls.key,
                name=form.cleaned_data["name"],
                settings=form.settings(),
                secrets=form.secrets(),
                api_version=form.api_version(),
                warehouse=form.cleaned_data.get("warehouse"),
                sales_channel=form.cleaned_data.get("sales_channel"),
                user=request.user,
            )
        except DomainError as exc:
            form.add_service_errors(exc)
        else:
            flash(request, f"Connection {connection.name} added. Test it to check the credentials.")
            return redirect("integrations:connection", pk=connection.pk)
    context = {"form": form, "connector": ConnectorInfo.of(cls), "connection": None, "active": "catalogue"}
    return render_page(request, "integrations/connection_form.html", context, fragments=())


@write
def connection_edit(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_connection(pk)
    context = connection_context(request, connection, "settings")
    if context["connector"] is None:
        raise Http404(f"The connector {connection.connector!r} of this connection is not installed.")
    cls = registry.get(connection.connector)
    form = ConnectionForm(request.POST or None, connector=cls, connection=connection)
    if request.method == "POST" and form.is_valid():
        try:
            services.connection_update(
                connection=connection,
                name=form.cleaned_data["name"],
                settings=form.settings(),
                secrets=form.secrets(),
                api_version=form.api_version() or None,
                warehouse=form.cleaned_data.get("warehouse"),
                sales_channel=form.cleaned_data.get("sales_channel"),
                user=request.user,
            )
        except DomainError as exc:
            form.add_service_errors(exc)
        else:
            flash(request, "Settings saved.")
            return redirect("integrations:connection-edit", pk=pk)
    context.update(form=form, in_flight=services.work_in_flight(connection))
    return render_page(request, "integrations/connection_form.html", context, fragments=())


@write
@require_POST
def connection_delete(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    try:
        services.connection_delete(
            connection=connection,
            user=request.user,
            force=request.POST.get("force") == "on",
        )
    except DomainError as exc:
        flash(request, exc.message, "error")
        return redirect("integrations:connection-edit", pk=pk)
    flash(request, f"Connection {connection.name} deleted.")
    return redirect("integrations:index")


@read
def connection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_connection(pk)
    context = connection_context(request, connection, "overview")
    runs = list(
        selectors.sync_run_list().filter(connection=connection).order_by("-started_at", "-id")[:RECENT_RUNS]
    )
    context.update(health=health.connection_health(connection), runs=runs, demo=demo.page_info(connection))
    context.update(demo_card=demo_card(connection))
    context.update(retention=_retention_policy(connection))
    context.update(_ownership_context(connection))
    if routing.ships_orders(connection):
        context.update(routes=routing.routes_of_connection(connection), ships_orders=True)
    callback = request.build_absolute_uri(reverse("integrations:oauth-callback"))
    context.update(sign_in=oauth.page_info(connection, callback))
    return render_page(request, "integrations/connection.html", context, fragments=())


def connector_demo(connection: Connection) -> Any:
    """The demo module of the connection's connector package (``integrations/<key>/demo.py``, which
    ``integrations.apps`` imports) when it offers demo actions (``demo_card`` and ``demo_act``)."""
    import sys

    module = sys.modules.get(f"integrations.{connection.connector}.demo")
    if module is None or not hasattr(module, "demo_card") or not hasattr(module, "demo_act"):
        return None
    return module


def demo_card(connection: Connection) -> dict[str, Any] | None:
    """The connection page's demo card (title, text, actions): None unless the fakes are on and the
    connector's demo says this is its demo connection."""
    module = connector_demo(connection)
    if module is None or not demo.fakes_enabled():
        return None
    card: dict[str, Any] | None = module.demo_card(connection)
    return card


def _retention_policy(connection: Connection) -> retention.Policy:
    """What is kept of the connection's traffic, and for how long (no queries)."""
    try:
        return retention.policy(registry.get(connection.connector))
    except registry.UnknownConnector:
        return retention.policy()


# --- who owns what --------------------------------------------------------------------------------


def ownership_form(connection: Connection, data: Any = None) -> OwnershipForm:
    """The form of one ownership rule, offering the data types the connection's connector touches."""
    try:
        cls: type[Connector] | None = registry.get(connection.connector)
    except registry.UnknownConnector:
        cls = None
    types = ownership.data_types_of(cls) if cls is not None else []
    tool = f"{connection.name} ({cls.name})" if cls is not None else connection.name
    return OwnershipForm(
        data,
        data_types=[(t, ownership.DataType(t).label) for t in types],
        tool_label=tool,
        prefix="ownership",
    )


def _ownership_context(
    connection: Connection, form: OwnershipForm | None = None, fields_form: FieldOwnersForm | None = None
) -> dict[str, Any]:
    rules = ownership.customer_fields(connection)
    return {
        "ownership": ownership.rules_of(connection),
        "ownership_form": form if form is not None else ownership_form(connection),
        "field_rules": rules,
        "field_owners_form": fields_form
        if fields_form is not None
        else FieldOwnersForm(rules=rules, prefix="fields", tool_label=connection.name),
        "kept_values": ownership.kept_values(connection) if rules else [],
    }


@write
@require_POST
def field_owners_set(request: HttpRequest, pk: int) -> HttpResponse:
    """Set who owns each customer field of a connection with field rules (its settings'
    ``field_owners``). From htmx: the Ownership section again, the errors next to the fields when
    refused (nothing changed) and a toast; otherwise back to the overview with a message."""
    connection = get_connection(pk)
    rules = ownership.customer_fields(connection)
    form = FieldOwnersForm(request.POST, rules=rules, prefix="fields", tool_label=connection.name)
    saved = False
    if not rules:
        form.add_error(None, f"{connection.name} keeps no customer fields of its own.")
    elif form.is_valid():
        try:
            ownership.field_owners_set(connection=connection, owners=form.cleaned_data, user=request.user)
            saved = True
        except DomainError as exc:
            for name, messages in exc.field_errors.items():
                target = name.removeprefix(f"{field_owners.SETTING}.")
                for message in messages:
                    form.add_error(target if target in form.fields else None, message)
            if not exc.field_errors:
                form.add_error(None, exc.message)
    if saved:
        message = "Customer fields: who owns each is saved."
        connection.refresh_from_db()
        form = FieldOwnersForm(
            rules=ownership.customer_fields(connection), prefix="fields", tool_label=connection.name
        )
    else:
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        message = f"Nothing changed: {errors}"
    if not is_htmx(request):
        flash(request, message, "success" if saved else "error")
        return back(request, reverse("integrations:connection", args=[pk]) + "#ownership")
    context = connection_context(request, connection, "overview")
    context.update(_ownership_context(connection, fields_form=form))
    response = render_page(request, "integrations/connection.html", context, fragments=("ownership",))
    return toast(response, message, "success" if saved else "error")


@write
@require_POST
def ownership_set(request: HttpRequest, pk: int) -> HttpResponse:
    """Set one ownership rule. From htmx: the Ownership section again, with the errors next to the
    fields when refused (answered 200, so htmx swaps it in; nothing changed) and a toast; otherwise
    back to the overview with a message."""
    connection = get_connection(pk)
    form = ownership_form(connection, request.POST)
    saved = None
    if form.is_valid():
        try:
            saved = ownership.ownership_rule_set(
                connection=connection,
                data_type=form.cleaned_data["data_type"],
                warehouse=form.cleaned_data["warehouse"],
                owner=form.cleaned_data["owner"],
                user=request.user,
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
    if saved is not None:
        what = str(ownership.DataType(saved.data_type).label)
        if saved.data_type in ownership.LOCATED:
            what += f" at {saved.warehouse.code if saved.warehouse is not None else 'every location'}"
        message = (
            f"{what}: {'the hub' if saved.owner == ownership.Owner.HUB else connection.name} owns it now."
        )
        form = ownership_form(connection)
    else:
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        message = f"Nothing changed: {errors}"
    if not is_htmx(request):
        flash(request, message, "success" if saved is not None else "error")
        return back(request, reverse("integrations:connection", args=[pk]) + "#ownership")
    context = connection_context(request, connection, "overview")
    context.update(_ownership_context(connection, form))
    response = render_page(request, "integrations/connection.html", context, fragments=("ownership",))
    return toast(response, message, "success" if saved is not None else "error")


# --- actions --------------------------------------------------------------------------------------


def _run_message(what: str, runs: list[SyncRun]) -> tuple[str, str]:
    if not runs:
        return f"{what}: nothing to do for this connector.", "warning"
    failed = [r for r in runs if r.status == SyncRunStatus.FAILED]
    partial = [r for r in runs if r.status == SyncRunStatus.PARTIAL]
    counts = {k: sum(getattr(r, k) for r in runs) for k in ("created", "updated", "skipped", "failed")}
    summary = ", ".join(f"{v} {k}" for k, v in counts.items() if v) or "no changes"
    if failed:
        errors = [str(e) for r in failed for e in (r.errors or [])][:1]
        return f"{what} failed{': ' + _error_text(errors[0]) if errors else ''}", "error"
    if partial:
        notes = [_error_text(e) for r in partial for e in (r.errors or []) if _level(e) != "info"][:1]
        return f"{what} done ({summary}), with warnings{': ' + notes[0] if notes else '.'}", "warning"
    return f"{what} done ({summary}).", "success"


def _level(error: Any) -> str:
    return str(error.get("level") or "error") if isinstance(error, dict) else "error"


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error.get("error") or error)
    return str(error)


def _test(connection: Connection, user: Any) -> tuple[str, str]:
    run = health.connection_test(connection=connection)
    if run.status == SyncRunStatus.SUCCEEDED:
        detail = ""
        for error in run.errors or []:
            detail = _error_text(error)
        return f"Connection works{': ' + detail if detail else '.'}", "success"
    errors = [_error_text(e) for e in run.errors or []]
    return f"Connection test failed: {errors[0] if errors else run.get_status_display()}", "error"


def _poll(connection: Connection, user: Any) -> tuple[str, str]:
    cls = registry.get(connection.connector)
    runs = [polling.poll(connection=connection, object_type=t) for t in cls.poll_object_types]
    return _run_message("Poll", runs)


def _job_page(job: Job) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("job", args=[job.pk]))


def _reconcile(connection: Connection, user: Any) -> HttpResponseRedirect:
    """Every object type the connector reconciles: a background job (integrations/jobs.py), whose
    page shows its progress, then the drifts. The API's reconcile endpoint still answers at once."""
    registry.get(connection.connector)  # an unknown connector is said here, not in the job
    job = jobs.job_start(
        RECONCILE_JOB, user=user, label=f"Reconcile {connection.name}", params={"connection": connection.pk}
    )
    return _job_page(job)


def _health_check(connection: Connection, user: Any) -> tuple[str, str]:
    run = health.health_check(connection=connection)
    return _run_message("Health check", [run])


def _import_products(connection: Connection, user: Any) -> HttpResponseRedirect:
    """Every product of the tool, created here or linked by SKU: a background job, as it may take a
    while; its page shows the progress page by page, then the counts. A broker that is down when it
    is sent leaves it queued: the jobs sweep sends it again (erp.jobs)."""
    polling.require_products_in(connection)
    job = jobs.job_start(
        PRODUCT_IMPORT_JOB,
        user=user,
        label=f"Import products from {connection.name}",
        params={"connection": connection.pk},
    )
    return _job_page(job)


def _pause(connection: Connection, user: Any) -> tuple[str, str]:
    services.connection_pause(connection=connection, user=user)
    return f"{connection.name} paused: nothing is pushed or polled until it is resumed.", "success"


def _resume(connection: Connection, user: Any) -> tuple[str, str]:
    services.connection_resume(connection=connection, user=user)
    return f"{connection.name} resumed.", "success"


ACTIONS: dict[str, Callable[[Connection, Any], tuple[str, str] | HttpResponseRedirect]] = {
    "test": _test,
    "poll": _poll,
    "reconcile": _reconcile,
    "health-check": _health_check,
    "import-products": _import_products,
    "pause": _pause,
    "resume": _resume,
}


@write
@require_POST
def connection_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Test, poll now, reconcile now, check health, import products, pause, resume: say how it went."""
    connection = get_object_or_404(Connection, pk=pk)
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404(action)
    try:
        outcome = handler(connection, request.user)
        if isinstance(outcome, HttpResponseRedirect):  # a background job: its page
            return outcome
        message, level = outcome
    except DomainError as exc:
        message, level = exc.message, "error"
    except registry.UnknownConnector as exc:
        message, level = str(exc), "error"
    flash(request, message, level)
    return back(request, reverse("integrations:connection", args=[pk]))
