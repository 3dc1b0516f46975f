"""Hub factories: connections, refs, inbound events, deliveries, outbox events, sync runs, drifts."""

from __future__ import annotations

from typing import Any

import factory

from erp.models import OutboxEvent
from integrations.models import (
    Connection,
    Delivery,
    DeliveryStatus,
    Drift,
    ExternalRef,
    InboundEvent,
    RequestLog,
    SyncJob,
    SyncRun,
)
from integrations.shopify.fake import ACCESS_TOKEN, CLIENT_SECRET, LOCATION_ID, SHOP_DOMAIN
from tests.inventory.factories import ProductFactory


class ConnectionFactory(factory.django.DjangoModelFactory[Connection]):
    """A saved connection with its secrets encrypted; by default a Shopify store at the fake shop.

    Not validated against its connector's schemas, as ``connection_create`` does: use that service
    when that is what a test is about."""

    class Meta:
        model = Connection

    connector = "shopify"
    name = factory.Sequence(lambda n: f"Test store {n}")
    settings = factory.LazyFunction(
        lambda: {"shop_domain": SHOP_DOMAIN, "api_version": "2025-07", "location_id": LOCATION_ID}
    )
    secrets = factory.LazyFunction(lambda: {"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET})

    @classmethod
    def _create(
        cls, model_class: type[Connection], *args: Any, secrets: dict[str, Any], **kwargs: Any
    ) -> Connection:
        connection = model_class(**kwargs)
        connection.set_secrets(secrets)
        connection.save()
        return connection


class ExternalRefFactory(factory.django.DjangoModelFactory[ExternalRef]):
    """The link of a tool's id (``object_type``, ``external_id``) to a record here (``internal``, any
    model instance); by default a new product as a variant."""

    class Meta:
        model = ExternalRef

    connection = factory.SubFactory(ConnectionFactory)
    object_type = "variant"
    external_id = factory.Sequence(lambda n: f"ext-{n}")
    internal = factory.SubFactory(ProductFactory)


class InboundEventFactory(factory.django.DjangoModelFactory[InboundEvent]):
    """An event from a tool as the hub stored it: a Shopify ``orders/create`` webhook, received."""

    class Meta:
        model = InboundEvent

    connection = factory.SubFactory(ConnectionFactory)
    external_id = factory.Sequence(lambda n: f"evt-{n}")
    topic = "orders/create"
    headers = factory.LazyAttribute(lambda e: {"X-Shopify-Topic": e.topic})
    body = factory.Sequence(lambda n: b'{"id": %d}' % n)


class OutboxEventFactory(factory.django.DjangoModelFactory[OutboxEvent]):
    """An event as the outbox holds it: by default a level change of a product that does not exist
    (pushing it is skipped)."""

    class Meta:
        model = OutboxEvent

    topic = "inventory.level_changed"
    aggregate_type = "test.thing"
    aggregate_id = factory.Sequence(str)
    sequence = 1
    payload = factory.Sequence(lambda n: {"n": n, "product_id": 0, "warehouse_id": 0, "available": "0"})


class DeliveryFactory(factory.django.DjangoModelFactory[Delivery]):
    """An outbox event of ``topic`` to be pushed to a connection, or to ``subscription`` when one is
    given; pending. ``dead=True``: a dead letter after 8 attempts, the tool's last 503 kept."""

    class Meta:
        model = Delivery

    topic = "inventory.level_changed"
    event = factory.SubFactory(OutboxEventFactory, topic=factory.SelfAttribute("..topic"))
    subscription = None
    connection = factory.Maybe(
        "subscription", yes_declaration=None, no_declaration=factory.SubFactory(ConnectionFactory)
    )

    class Params:
        dead = factory.Trait(
            status=DeliveryStatus.DEAD, attempts=8, last_status_code=503, last_error="Shop answered 503."
        )


class SyncRunFactory(factory.django.DjangoModelFactory[SyncRun]):
    """A unit of sync work of a connection (a poll unless said otherwise), running."""

    class Meta:
        model = SyncRun

    connection = factory.SubFactory(ConnectionFactory)
    job = SyncJob.POLL


class RequestLogFactory(factory.django.DjangoModelFactory[RequestLog]):
    """One HTTP request the hub made for a sync run (or a connection), answered 200."""

    class Meta:
        model = RequestLog

    sync_run = None
    connection = factory.Maybe(
        "sync_run",
        yes_declaration=factory.SelfAttribute("sync_run.connection"),
        no_declaration=factory.SubFactory(ConnectionFactory),
    )
    method = "GET"
    url = factory.Sequence(lambda n: f"https://{SHOP_DOMAIN}/admin/api/2025-07/orders.json?page={n}")
    status_code = 200
    duration_ms = 12


class DriftFactory(factory.django.DjangoModelFactory[Drift]):
    """An open inventory drift found by reconciliation: 40 here, 12 in the tool."""

    class Meta:
        model = Drift

    connection = factory.SubFactory(ConnectionFactory)
    object_type = "inventory"
    external_id = factory.Sequence(str)
    label = "TENT-2P-GRN"
    kind = "quantity_mismatch"
    hub_value = "40"
    tool_value = "12"
