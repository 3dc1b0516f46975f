"""The hub's JSON API at /api/v1/integrations/, and API users' webhook subscriptions at /api/v1/webhooks/.

Thin handlers: parse, look up (404 naming what is missing), call a service or a
selector, answer with a schema. The hub (``router``) needs ``integrations:read`` to
read and ``integrations:write`` for everything else (setting who owns what too). Lists are paginated
(``page``, ``page_size``: ``{"count", "items"}``) and filtered with the FilterSets of
integrations.filters, the ones the pages use, at a constant number of queries.

Secrets are write-only: a connection's answer names the secrets it holds, never
their values. Actions that talk to the tool (test, poll, reconcile, health check)
run now and answer with their sync runs; what went wrong is in the run, not a 5xx.

Webhook subscriptions (``webhooks_router``): any signed-in user or API key manages
its own; integration admins (``integrations:write``) see and manage everyone's with
``all=true``. The signing secret is in the answer that creates (or rotates) it, only.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, Shown, filtered, get_or_404, principal, user_of
from erp.apiauth import ErpAuth
from erp.exceptions import NotFound, ValidationFailed
from integrations import connections as services
from integrations import (
    health,
    inbound,
    mappings,
    outbound,
    ownership,
    polling,
    reconcile,
    registry,
    selectors,
    webhooks_out,
)
from integrations.api_field_owners import router as field_owners_router
from integrations.api_fulfilment import router as fulfilment_router
from integrations.filters import (
    ConnectionFilter,
    DeliveryFilter,
    DriftFilter,
    ExternalRefFilter,
    InboundEventFilter,
    SubscriptionFilter,
    SyncRunFilter,
)
from integrations.models import (
    Connection,
    Delivery,
    Drift,
    ExternalRef,
    InboundEvent,
    RequestLog,
    SyncRun,
    ValueMapping,
    WebhookSubscription,
)
from integrations.schemas import (
    ConnectionFilterIn,
    ConnectionHealthOut,
    ConnectionIn,
    ConnectionOut,
    ConnectionPatchIn,
    ConnectorOut,
    DeliveryFilterIn,
    DeliveryOut,
    DriftFilterIn,
    DriftOut,
    InboundEventDetailOut,
    InboundEventFilterIn,
    InboundEventOut,
    MappingKindDetailOut,
    MappingKindOut,
    MapSkuIn,
    MapSkuOut,
    ObjectTypeIn,
    OwnershipRuleIn,
    OwnershipRuleOut,
    QuarantineFilterIn,
    QuarantineOut,
    RefFilterIn,
    RefOut,
    SkuMappingIn,
    SubscriptionDeliveryFilterIn,
    SubscriptionFilterIn,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatchIn,
    SubscriptionSecretOut,
    SyncRunDetailOut,
    SyncRunFilterIn,
    SyncRunOut,
    ValueMappingIn,
    ValueMappingSavedOut,
)
from inventory.models import Product, Warehouse
from sales.models import SalesChannel

router = Router(tags=["Integrations"], auth=ErpAuth("integrations"))
webhooks_router = Router(tags=["Webhooks"], auth=ErpAuth())

PAGE_SIZE = 50

CONNECTIONS = Listing(ordering={"name": "name", "created_at": "created_at", "updated_at": "updated_at"})
NEWEST = {"started_at": "started_at", "created_at": "created_at", "received_at": "received_at"}


def _ordered(queryset: QuerySet[Any], value: str | None, keys: dict[str, str]) -> QuerySet[Any]:
    return Listing(ordering=keys, updated=None).order(queryset, value) if value else queryset


# --- connectors -------------------------------------------------------------------------------------


def _connector_out(cls: type[Any]) -> dict[str, Any]:
    described = cls.describe()
    described.update(
        poll_object_types=list(cls.poll_object_types),
        reconcile_object_types=list(cls.reconcile_object_types),
        webhook_topics=list(cls.webhook_topics),
    )
    return described


@router.get("/connectors", response=list[ConnectorOut])
def connector_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Every registered connector: its capabilities, the settings schema and the secrets it needs."""
    return [_connector_out(cls) for cls in registry.all_connectors()]


@router.get("/connectors/{key}", response=ConnectorOut)
def connector_detail(request: HttpRequest, key: str) -> dict[str, Any]:
    try:
        return _connector_out(registry.get(key))
    except registry.UnknownConnector as exc:
        raise NotFound(str(exc)) from None


# --- connections ------------------------------------------------------------------------------------


def _connection(pk: int) -> Connection:
    return get_or_404(selectors.connection_list(), pk, "connection")


def _reference(model: type[Any], pk: int | None, what: str, field: str) -> Any:
    if pk is None:
        return None
    obj = model._default_manager.filter(pk=pk).first()
    if obj is None:
        message = f"No {what} with id {pk}."
        raise ValidationFailed(message, field_errors={field: [message]})
    return obj


@router.get("/connections", response=list[ConnectionOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def connection_list(request: HttpRequest, filters: Query[ConnectionFilterIn]) -> QuerySet[Connection]:
    """Connections by name, with their live counters (open deliveries, dead letters, quarantined…)."""
    return filtered(ConnectionFilter, filters, selectors.connection_list(), listing=CONNECTIONS)


@router.post("/connections", response={201: ConnectionOut})
def connection_create(request: HttpRequest, payload: ConnectionIn) -> Connection:
    """A connection; settings and secrets are checked against the connector's schemas (422 per field)."""
    connection = services.connection_create(
        connector=payload.connector,
        name=payload.name,
        settings=payload.settings,
        secrets=payload.secrets,
        api_version=payload.api_version,
        warehouse=_reference(Warehouse, payload.warehouse, "warehouse", "warehouse"),
        sales_channel=_reference(SalesChannel, payload.sales_channel, "sales channel", "sales_channel"),
        user=user_of(request),
    )
    return _connection(connection.pk)


@router.get("/connections/{connection_id}", response=ConnectionOut)
def connection_detail(request: HttpRequest, connection_id: int) -> Connection:
    return _connection(connection_id)


@router.patch("/connections/{connection_id}", response=ConnectionOut)
def connection_update(request: HttpRequest, connection_id: int, payload: ConnectionPatchIn) -> Connection:
    """Change what is sent. ``settings`` is merged into the stored ones; only secrets sent are replaced."""
    connection = _connection(connection_id)
    sent = payload.model_dump(exclude_unset=True)
    for name in ("name", "settings", "secrets", "api_version"):
        if name in sent and sent[name] is None:
            raise ValidationFailed(f"Cannot be null: {name}.", field_errors={name: ["Cannot be null."]})
    changes: dict[str, Any] = {
        k: sent[k] for k in ("name", "settings", "secrets", "api_version") if k in sent
    }
    if "warehouse" in sent:
        changes["warehouse"] = _reference(Warehouse, sent["warehouse"], "warehouse", "warehouse")
    if "sales_channel" in sent:
        changes["sales_channel"] = _reference(
            SalesChannel, sent["sales_channel"], "sales channel", "sales_channel"
        )
    services.connection_update(connection=connection, user=user_of(request), **changes)
    return _connection(connection_id)


@router.delete("/connections/{connection_id}", response={204: None})
def connection_delete(request: HttpRequest, connection_id: int, force: bool = False) -> Status[None]:
    """Delete it with its refs, events, deliveries and sync log; 409 while work is in flight (``force``)."""
    services.connection_delete(connection=_connection(connection_id), user=user_of(request), force=force)
    return Status(204, None)


@router.post("/connections/{connection_id}/pause", response=ConnectionOut)
def connection_pause(request: HttpRequest, connection_id: int) -> Connection:
    """Stop pushing and polling (webhooks are still stored, and wait)."""
    services.connection_pause(connection=_connection(connection_id), user=user_of(request))
    return _connection(connection_id)


@router.post("/connections/{connection_id}/resume", response=ConnectionOut)
def connection_resume(request: HttpRequest, connection_id: int) -> Connection:
    services.connection_resume(connection=_connection(connection_id), user=user_of(request))
    return _connection(connection_id)


def _run(pk: int) -> SyncRun:
    return selectors.sync_run_list().get(pk=pk)


@router.post("/connections/{connection_id}/test", response=SyncRunOut)
def connection_test(request: HttpRequest, connection_id: int) -> SyncRun:
    """One cheap authenticated call to the tool. The run's status says whether it worked; its
    messages what the tool answered (or the error)."""
    run = health.connection_test(connection=_connection(connection_id))
    return _run(run.pk)


@router.get("/connections/{connection_id}/health", response=ConnectionHealthOut)
def connection_health(request: HttpRequest, connection_id: int) -> dict[str, Any]:
    """Last success, error rate, what is stuck, webhooks missing, token expiry, API version sunset."""
    connection = _connection(connection_id)
    report = health.connection_health(connection)
    data = dict(report.__dict__)
    data.update(
        connection=data.pop("connection_id"),
        level=report.level,
        error_rate=report.error_rate,
        hook_url=health.hook_url(connection),
    )
    return data


@router.post("/connections/{connection_id}/health-check", response=SyncRunOut)
def connection_health_check(request: HttpRequest, connection_id: int) -> SyncRun:
    """Ask the tool which webhooks exist and register the missing ones."""
    run = health.health_check(connection=_connection(connection_id))
    return _run(run.pk)


def _object_types(connection: Connection, requested: str | None, attribute: str) -> list[str]:
    try:
        available = list(getattr(registry.get(connection.connector), attribute))
    except registry.UnknownConnector as exc:
        raise ValidationFailed(str(exc)) from None
    if requested is None:
        return available
    if requested not in available:
        message = f"{connection.name} has no {requested!r}; it has: {', '.join(available) or 'none'}."
        raise ValidationFailed(message, field_errors={"object_type": [message]})
    return [requested]


@router.post("/connections/{connection_id}/poll", response=list[SyncRunOut])
def connection_poll(
    request: HttpRequest, connection_id: int, payload: ObjectTypeIn | None = None
) -> list[SyncRun]:
    """Pull what changed since the cursor now (each object type the connector polls, or the one given)."""
    connection = _connection(connection_id)
    types = _object_types(connection, payload.object_type if payload else None, "poll_object_types")
    runs = [polling.poll(connection=connection, object_type=t) for t in types]
    return [_run(r.pk) for r in runs]


@router.post("/connections/{connection_id}/reconcile", response=list[SyncRunOut])
def connection_reconcile(
    request: HttpRequest, connection_id: int, payload: ObjectTypeIn | None = None
) -> list[SyncRun]:
    """Compare the tool's state with the hub's now; drifts are recorded (see /drifts)."""
    connection = _connection(connection_id)
    types = _object_types(connection, payload.object_type if payload else None, "reconcile_object_types")
    runs = [reconcile.reconcile(connection=connection, object_type=t) for t in types]
    return [_run(r.pk) for r in runs]


@router.post("/connections/{connection_id}/import-products", response=SyncRunOut)
def connection_import_products(request: HttpRequest, connection_id: int) -> SyncRun:
    """Bring in every product of the tool now, whatever the cursor: each is created here or linked
    to the product with its SKU (a first import, or a repair). 422 for a connector without products."""
    run = polling.import_products(connection=_connection(connection_id))
    return _run(run.pk)


# --- who owns what --------------------------------------------------------------------------------


@router.get("/connections/{connection_id}/ownership", response=list[OwnershipRuleOut])
def ownership_list(request: HttpRequest, connection_id: int) -> list[dict[str, Any]]:
    """Who owns what, per data type and location: the rules set, and the connector's defaults they
    leave in force (``default``). The owner's data wins: a tool's count is applied where the tool
    owns the stock and never pushed back to it; the hub's is pushed everywhere else."""
    return [rule.as_dict() for rule in ownership.rules_of(_connection(connection_id))]


@router.put("/connections/{connection_id}/ownership", response=list[OwnershipRuleOut])
def ownership_set(request: HttpRequest, connection_id: int, payload: OwnershipRuleIn) -> list[dict[str, Any]]:
    """Set who owns one data type at one warehouse (``warehouse`` null: every location); answers
    every line of who owns what. 422 per field for a data type the connector does not touch, an
    unknown owner or warehouse, or a location for data that has none: nothing is changed."""
    connection = _connection(connection_id)
    ownership.ownership_rule_set(
        connection=connection,
        data_type=payload.data_type,
        warehouse=_reference(Warehouse, payload.warehouse, "warehouse", "warehouse"),
        owner=payload.owner,
        user=user_of(request),
    )
    return [rule.as_dict() for rule in ownership.rules_of(connection)]


# --- mappings (external refs) -----------------------------------------------------------------------


@router.get("/connections/{connection_id}/refs", response=list[RefOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def ref_list(request: HttpRequest, connection_id: int, filters: Query[RefFilterIn]) -> QuerySet[ExternalRef]:
    """The connection's external ids: SKU mappings, variants, orders, customers…"""
    connection = _connection(connection_id)
    return filtered(ExternalRefFilter, filters, selectors.ref_list(connection))


@router.post("/connections/{connection_id}/refs", response={201: RefOut})
def sku_mapping_create(request: HttpRequest, connection_id: int, payload: SkuMappingIn) -> ExternalRef:
    """Map the tool's SKU to a product (to replay what waits for it, use /quarantine/map-sku)."""
    connection = _connection(connection_id)
    product = _reference(Product, payload.product, "product", "product")
    ref = services.sku_mapping_create(
        connection=connection, sku=payload.sku, product=product, user=user_of(request)
    )
    return selectors.ref_list(connection).get(pk=ref.pk)


@router.delete("/connections/{connection_id}/refs/{ref_id}", response={204: None})
def sku_mapping_delete(request: HttpRequest, connection_id: int, ref_id: int) -> Status[None]:
    """Remove a SKU mapping (other external ids are the hub's own and cannot be removed here)."""
    ref = get_or_404(ExternalRef.objects.filter(connection_id=connection_id), ref_id, "external ref")
    services.sku_mapping_delete(ref=ref, user=user_of(request))
    return Status(204, None)


# --- sync runs --------------------------------------------------------------------------------------


@router.get("/sync-runs", response=list[SyncRunOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def sync_run_list(request: HttpRequest, filters: Query[SyncRunFilterIn]) -> QuerySet[SyncRun]:
    """Sync runs, newest first: per connection and job, with counts and messages."""
    runs = selectors.sync_run_list().order_by("-started_at", "-id")
    return _ordered(filtered(SyncRunFilter, filters, runs, exclude=("ordering",)), filters.ordering, NEWEST)


@router.get("/sync-runs/{run_id}", response=SyncRunDetailOut)
def sync_run_detail(request: HttpRequest, run_id: int) -> SyncRun:
    """One run with its HTTP requests (secrets redacted)."""
    runs = selectors.sync_run_list().prefetch_related(Prefetch("requests", RequestLog.objects.order_by("id")))
    return get_or_404(runs, run_id, "sync run")


# --- deliveries -------------------------------------------------------------------------------------


@router.get("/deliveries", response=list[DeliveryOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def delivery_list(request: HttpRequest, filters: Query[DeliveryFilterIn]) -> QuerySet[Delivery]:
    """Outbound deliveries, newest first. ``status=open``: pending or retrying; ``dead``: dead letters."""
    deliveries = filtered(DeliveryFilter, filters, selectors.delivery_list(), exclude=("ordering",))
    return _ordered(deliveries, filters.ordering, NEWEST)


@router.get("/deliveries/{delivery_id}", response=DeliveryOut)
def delivery_detail(request: HttpRequest, delivery_id: int) -> Delivery:
    return get_or_404(selectors.delivery_list(), delivery_id, "delivery")


@router.post("/deliveries/{delivery_id}/retry", response=DeliveryOut)
def delivery_retry(request: HttpRequest, delivery_id: int) -> Delivery:
    """A dead or failed delivery back to pending with a fresh run of attempts (409 for any other status)."""
    delivery = get_or_404(Delivery, delivery_id, "delivery")
    outbound.delivery_retry(delivery=delivery, user=user_of(request))
    return selectors.delivery_list().get(pk=delivery_id)


# --- inbound events and the quarantine --------------------------------------------------------------


@router.get("/inbound-events", response=list[InboundEventOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def inbound_event_list(request: HttpRequest, filters: Query[InboundEventFilterIn]) -> QuerySet[InboundEvent]:
    """Events received from the tools (webhooks and polls), newest first, without their bodies."""
    events = filtered(InboundEventFilter, filters, selectors.inbound_event_list(), exclude=("ordering",))
    return _ordered(events, filters.ordering, NEWEST)


@router.get("/inbound-events/{event_id}", response=InboundEventDetailOut)
def inbound_event_detail(request: HttpRequest, event_id: int) -> InboundEvent:
    """One event with its raw headers and body."""
    return get_or_404(InboundEvent, event_id, "inbound event")


@router.post("/inbound-events/{event_id}/replay", response=InboundEventOut)
def inbound_event_replay(request: HttpRequest, event_id: int) -> InboundEvent:
    """Process the event again from its stored body (it is queued; on an active connection, at once)."""
    event = get_or_404(InboundEvent, event_id, "inbound event")
    inbound.inbound_replay(event=event, user=user_of(request))
    return selectors.inbound_event_list().get(pk=event_id)


@router.get("/quarantine", response=list[QuarantineOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def quarantine_list(request: HttpRequest, filters: Query[QuarantineFilterIn]) -> list[Any]:
    """What quarantined events wait for, grouped per connection and missing thing, most waiting first."""
    connection = _connection(filters.connection) if filters.connection is not None else None
    return selectors.quarantine_groups(connection)


@router.post("/quarantine/map-sku", response=MapSkuOut)
def quarantine_map_sku(request: HttpRequest, payload: MapSkuIn) -> dict[str, Any]:
    """Map the tool's SKU to a product, then replay every event quarantined for it."""
    connection = get_or_404(Connection, payload.connection, "connection", field="connection")
    product = _reference(Product, payload.product, "product", "product")
    replayed = inbound.quarantine_map_sku(
        connection=connection, sku=payload.sku, product=product, user=user_of(request)
    )
    return {
        "connection": connection.pk,
        "sku": payload.sku.strip(),
        "product": product.pk,
        "product_sku": product.sku,
        "replayed": replayed,
    }


# --- reconciliation ---------------------------------------------------------------------------------


@router.get("/drifts", response=list[DriftOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def drift_list(request: HttpRequest, filters: Query[DriftFilterIn]) -> QuerySet[Drift]:
    """Differences reconciliation found, newest first. ``healable`` ones can be healed (re-pushed)."""
    return filtered(DriftFilter, filters, selectors.drift_list())


@router.post("/drifts/{drift_id}/heal", response=DriftOut)
def drift_heal(request: HttpRequest, drift_id: int) -> Drift:
    """Push the hub's value to the tool again (the hub is the source of truth for it)."""
    drift = get_or_404(Drift, drift_id, "drift")
    reconcile.drift_heal(drift=drift, user=user_of(request))
    return selectors.drift_list().get(pk=drift_id)


@router.post("/drifts/{drift_id}/resolve", response=DriftOut)
def drift_resolve(request: HttpRequest, drift_id: int) -> Drift:
    """Mark the drift handled by a person."""
    drift = get_or_404(Drift, drift_id, "drift")
    reconcile.drift_resolve(drift=drift, user=user_of(request))
    return selectors.drift_list().get(pk=drift_id)


# --- webhook subscriptions of API users ---------------------------------------------------------------


def _is_admin(request: HttpRequest) -> bool:
    return principal(request).can("integrations", "write")


def _subscriptions(request: HttpRequest, *, everyone: bool = True) -> QuerySet[WebhookSubscription]:
    """The caller's subscriptions; an integration admin's ``everyone`` includes all users'."""
    if everyone and _is_admin(request):
        return selectors.subscription_list()
    return selectors.subscription_list(user_of(request))


def _subscription(request: HttpRequest, pk: int) -> WebhookSubscription:
    return get_or_404(_subscriptions(request), pk, "webhook subscription")


@dataclass(frozen=True)
class SubscriptionWithSecret(Shown[WebhookSubscription]):
    """A subscription as the answer that made it (or rotated its secret) shows it: with the secret, once."""

    secret: str


def _with_secret(
    subscription: WebhookSubscription, secret: str, request: HttpRequest
) -> SubscriptionWithSecret:
    return SubscriptionWithSecret(obj=_subscription(request, subscription.pk), secret=secret)


@webhooks_router.get("/subscriptions", response=list[SubscriptionOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def subscription_list(
    request: HttpRequest, filters: Query[SubscriptionFilterIn]
) -> QuerySet[WebhookSubscription]:
    """Your subscriptions, newest first (``all=true``: everyone's, for integration admins)."""
    subscriptions = _subscriptions(request, everyone=filters.all)
    return filtered(SubscriptionFilter, filters, subscriptions, exclude=("all",))


@webhooks_router.post("/subscriptions", response={201: SubscriptionSecretOut})
def subscription_create(request: HttpRequest, payload: SubscriptionIn) -> SubscriptionWithSecret:
    """Subscribe a URL to topic patterns. The answer holds the signing secret, this once."""
    subscription, secret = webhooks_out.subscription_create(
        user=user_of(request),
        url=payload.url,
        topics=payload.topics,
        description=payload.description,
        secret=payload.secret,
    )
    return _with_secret(subscription, secret, request)


@webhooks_router.get("/subscriptions/{subscription_id}", response=SubscriptionOut)
def subscription_detail(request: HttpRequest, subscription_id: int) -> WebhookSubscription:
    return _subscription(request, subscription_id)


@webhooks_router.patch("/subscriptions/{subscription_id}", response=SubscriptionOut)
def subscription_update(
    request: HttpRequest, subscription_id: int, payload: SubscriptionPatchIn
) -> WebhookSubscription:
    subscription = _subscription(request, subscription_id)
    sent = payload.model_dump(exclude_unset=True)
    nulls = sorted(name for name, value in sent.items() if value is None)
    if nulls:
        raise ValidationFailed(
            f"Cannot be null: {', '.join(nulls)}.", field_errors={name: ["Cannot be null."] for name in nulls}
        )
    webhooks_out.subscription_update(subscription=subscription, user=user_of(request), **sent)
    return _subscription(request, subscription_id)


@webhooks_router.post("/subscriptions/{subscription_id}/rotate-secret", response=SubscriptionSecretOut)
def subscription_rotate_secret(request: HttpRequest, subscription_id: int) -> SubscriptionWithSecret:
    """A new signing secret, in this answer only; later attempts (retries too) are signed with it."""
    subscription = _subscription(request, subscription_id)
    subscription, secret = webhooks_out.subscription_rotate_secret(
        subscription=subscription, user=user_of(request)
    )
    return _with_secret(subscription, secret, request)


@webhooks_router.delete("/subscriptions/{subscription_id}", response={204: None})
def subscription_delete(request: HttpRequest, subscription_id: int) -> Status[None]:
    """Delete the subscription and its delivery log."""
    webhooks_out.subscription_delete(
        subscription=_subscription(request, subscription_id), user=user_of(request)
    )
    return Status(204, None)


@webhooks_router.get("/subscriptions/{subscription_id}/deliveries", response=list[DeliveryOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def subscription_deliveries(
    request: HttpRequest, subscription_id: int, filters: Query[SubscriptionDeliveryFilterIn]
) -> QuerySet[Delivery]:
    """The subscription's delivery log, newest first."""
    subscription = _subscription(request, subscription_id)
    return filtered(DeliveryFilter, filters, selectors.subscription_deliveries(subscription))


@webhooks_router.post("/deliveries/{delivery_id}/replay", response={201: DeliveryOut})
def delivery_replay(request: HttpRequest, delivery_id: int) -> Delivery:
    """Send a delivery again: a new delivery of the same event (same webhook-id), queued now."""
    delivery = get_or_404(
        Delivery.objects.filter(subscription__in=_subscriptions(request)), delivery_id, "webhook delivery"
    )
    replay = webhooks_out.delivery_replay(delivery=delivery, user=user_of(request))
    return selectors.delivery_list().get(pk=replay.pk)


# --- value mappings ----------------------------------------------------------------------------------


def _kind_out(kind: Any, rows: list[ValueMapping]) -> dict[str, Any]:
    return {**mappings.describe([kind])[0], "mappings": rows}


def _pairs(choices: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"value": value, "label": label} for value, label in choices]


@router.get("/connections/{connection_id}/mappings", response=list[MappingKindOut])
def mapping_kind_list(request: HttpRequest, connection_id: int) -> list[dict[str, Any]]:
    """The kinds of value the connector needs mapped (our warehouses to its locations, our taxes to its
    tax codes, account roles to its accounts...), each with the connection's mappings."""
    connection = _connection(connection_id)
    found = mappings.mappings_of(connection)
    return [_kind_out(kind, found.get(kind.key, [])) for kind in mappings.kinds_of(connection)]


@router.get("/connections/{connection_id}/mappings/{kind}", response=MappingKindDetailOut)
def mapping_kind_detail(request: HttpRequest, connection_id: int, kind: str) -> dict[str, Any]:
    """One kind: its mappings, our values and the tool's (read from the tool now), and what waits."""
    connection = _connection(connection_id)
    declared = _mapping_kind(connection, kind)
    offered = mappings.tool_choices(connection, declared)
    waiting_kind = mappings.waiting_kind(declared)
    waiting = [g.value for g in selectors.quarantine_groups(connection) if g.kind == waiting_kind]
    waiting += [d.value for d in mappings.waiting_deliveries(connection) if d.kind == waiting_kind]
    return {
        **_kind_out(declared, mappings.mappings_of(connection).get(declared.key, [])),
        "our_choices": _pairs(mappings.our_choices(declared)),
        "tool_choices": _pairs(offered.choices),
        "tool_choices_error": offered.error,
        "waiting": list(dict.fromkeys(waiting)),
    }


def _mapping_kind(connection: Connection, kind: str) -> Any:
    try:
        return mappings.kind_of(connection, kind)
    except ValidationFailed as exc:
        raise NotFound(exc.message) from None


@router.put("/connections/{connection_id}/mappings/{kind}", response=ValueMappingSavedOut)
def mapping_set(
    request: HttpRequest, connection_id: int, kind: str, payload: ValueMappingIn
) -> dict[str, Any]:
    """Map one of our values to the tool's (created, or changed), then replay what waited for it: the
    events quarantined and the deliveries dead for want of it. 404 for a kind the connector does not
    map; 422 per field for a value the tool does not list."""
    connection = _connection(connection_id)
    _mapping_kind(connection, kind)
    saved = mappings.mapping_set(
        connection=connection,
        kind=kind,
        our_value=payload.our_value,
        tool_value=payload.tool_value,
        tool_label=payload.tool_label,
        user=user_of(request),
    )
    return {
        "mapping": saved.mapping,
        "created": saved.created,
        "replayed_events": saved.events,
        "replayed_deliveries": saved.deliveries,
    }


@router.delete("/connections/{connection_id}/mappings/{kind}/{mapping_id}", response={204: None})
def mapping_delete(request: HttpRequest, connection_id: int, kind: str, mapping_id: int) -> Status[None]:
    """Remove a mapping: what needs it from now on waits for a person again."""
    connection = _connection(connection_id)
    _mapping_kind(connection, kind)
    found = get_or_404(ValueMapping.objects.filter(connection=connection, kind=kind), mapping_id, "mapping")
    mappings.mapping_delete(
        connection=connection, kind=kind, our_value=found.our_value, user=user_of(request)
    )
    return Status(204, None)


# Who ships each warehouse's orders: /integrations/fulfilment-rules (integrations.api_fulfilment).
router.add_router("/fulfilment-rules", fulfilment_router)
# Who owns each customer field of a CRM: /integrations/connections/{id}/field-owners (api_field_owners).
router.add_router("", field_owners_router)
