"""Amazon through the whole hub (the fixtures are in this folder's conftest): the fake's hosts, the
store's SKUs, a connection, a poll, a round of deliveries."""

from __future__ import annotations

import datetime
from decimal import Decimal as D
from typing import Any

from django.utils import timezone

from integrations import outbound, polling
from integrations.amazon.connector import LWA_URL, REGIONS
from integrations.amazon.fake import (
    LWA_CLIENT_ID,
    LWA_CLIENT_SECRET,
    MARKETPLACE_ID,
    REFRESH_TOKEN,
    SELLER_ID,
)
from integrations.connections import connection_create
from integrations.fakes.clock import SimClock
from integrations.models import Connection, Delivery, DeliveryStatus
from inventory import availability

__all__ = ["DOCUMENTS", "ORIGINS", "SKUS", "available", "connect", "deliver", "on_hand", "poll"]

DOCUMENTS = "https://tortuga-prod-na.s3-external-1.amazonaws.com"
ORIGINS = (REGIONS["na"], "https://api.amazon.com", DOCUMENTS)
SKUS = {"TENT-2P-GRN": "249.00", "TENT-2P-ORG": "249.00", "SLBAG-20F-REG": "129.00", "STOVE-TI-01": "59.95"}
assert LWA_URL.startswith(ORIGINS[1])


def connect(store: dict[str, Any], **settings: Any) -> Connection:
    return connection_create(
        connector="amazon",
        name="Amazon US",
        settings={"marketplace_ids": [MARKETPLACE_ID], "seller_id": SELLER_ID, **settings},
        secrets={
            "lwa_client_id": LWA_CLIENT_ID,
            "lwa_client_secret": LWA_CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
        },
        warehouse=store["warehouse"],
        sales_channel=store["channel"],
    )


def poll(connection: Connection, capture: Any, object_type: str = "order") -> Any:
    with capture(execute=True):
        return polling.poll(connection=Connection.objects.get(pk=connection.pk), object_type=object_type)


def available(store: dict[str, Any], sku: str) -> D:
    return availability.of(store["products"][sku].pk, store["warehouse"].pk).available


def on_hand(store: dict[str, Any], sku: str) -> D:
    return availability.of(store["products"][sku].pk, store["warehouse"].pk).on_hand


def deliver(connection: Connection, capture: Any, clock: SimClock) -> list[Delivery]:
    """Let the coalescing window (or a backoff, or a job's wait) pass and attempt what is due."""
    clock.tick(datetime.timedelta(minutes=2))
    Delivery.objects.filter(
        connection=connection, status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]
    ).update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
    with capture(execute=True):
        outbound.deliveries_enqueue_due()
    return list(Delivery.objects.filter(connection=connection).order_by("pk"))
