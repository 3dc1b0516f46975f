"""The hub's pages.

One view per page. An htmx request whose target is a fragment of the page (``rows``)
gets that fragment only (django-template-partials, ``"integrations/events.html#rows"``);
any other request gets the whole page, so links and forms also work without JavaScript.
Reading needs ``integrations:read``; anything that writes needs ``integrations:write``.
"My webhooks" is open to every signed-in user, for their own subscriptions.
"""

from integrations.views.connections import (
    connection_action,
    connection_create,
    connection_delete,
    connection_detail,
    connection_edit,
)
from integrations.views.demo import simulate_order
from integrations.views.drifts import drift_heal, drift_list, drift_resolve
from integrations.views.hub import catalogue, hub_status, index
from integrations.views.tabs import (
    delivery_detail,
    delivery_list,
    delivery_retry,
    event_detail,
    event_list,
    event_replay,
    mappings,
    product_options,
    quarantine,
    quarantine_map,
    quarantine_replay,
    sku_mapping_add,
    sku_mapping_delete,
    sync_log,
    sync_run_detail,
    value_mapping_delete,
    value_mapping_set,
)
from integrations.views.webhooks import (
    webhook_delete,
    webhook_delivery_replay,
    webhook_detail,
    webhook_list,
    webhook_rotate,
)

__all__ = [
    "catalogue",
    "connection_action",
    "connection_create",
    "connection_delete",
    "connection_detail",
    "connection_edit",
    "delivery_detail",
    "delivery_list",
    "delivery_retry",
    "drift_heal",
    "drift_list",
    "drift_resolve",
    "event_detail",
    "event_list",
    "event_replay",
    "hub_status",
    "index",
    "mappings",
    "product_options",
    "quarantine",
    "quarantine_map",
    "quarantine_replay",
    "simulate_order",
    "sku_mapping_add",
    "sku_mapping_delete",
    "sync_log",
    "sync_run_detail",
    "value_mapping_delete",
    "value_mapping_set",
    "webhook_delete",
    "webhook_delivery_replay",
    "webhook_detail",
    "webhook_list",
    "webhook_rotate",
]
