"""The webhooks the fake ShipStation sends, at least once, as ShipStation V1 does.

The queueing, retries and at-least-once faults are ``integrations.fakes.webhooks``'s
``WebhookSender``; this is ShipStation's dialect of it. A subscription (``POST /webhooks/subscribe``
``{target_url, event, store_id, friendly_name}`` -> ``{"id"}``; ``GET /webhooks``;
``DELETE /webhooks/{id}``) names an event and a store (null: every store). Deliveries are thin and
UNSIGNED: a POST of ``{"resource_url": ..., "resource_type": EVENT}`` to the ``target_url`` as it
was registered (a receiver puts its own secret in it); the receiver GETs ``resource_url`` with its
own credentials:

* SHIP_NOTIFY / ITEM_SHIP_NOTIFY, when a batch of labels is printed:
  ``{base}/shipments?storeID=<store>&batchId=<batch>&includeShipmentItems=False`` (``True`` for
  the ITEM_ event);
* ORDER_NOTIFY / ITEM_ORDER_NOTIFY, when ``createorder(s)`` created new orders:
  ``{base}/orders?storeID=<store>&importBatch=<uuid>``.

A delivery answered with anything but a 2xx is retried on ``RETRY_SCHEDULE`` (about a day);
after the last failure the subscription is deactivated (``Active`` false in ``GET /webhooks``).
"""

from __future__ import annotations

import datetime
import itertools
import json
from collections.abc import Iterable, Mapping
from typing import Any

from integrations.fakes.webhooks import Exhaustion, WebhookSender
from integrations.shipstation.fake_data import EVENTS, FIRST_WEBHOOK_ID, SELLER_ID, invalid, not_found
from integrations.shipstation.fake_shipments import ShipmentBook

_MINUTE = datetime.timedelta(minutes=1)
# ShipStation does not document its retries: increasing intervals over about a day [inferred].
RETRY_SCHEDULE: tuple[datetime.timedelta, ...] = tuple(
    m * _MINUTE for m in (1, 5, 10, 30, 60, 120, 240, 480, 720)
)
HEADERS = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "ShipStation-Webhooks"}


class ShipStationWebhooks(WebhookSender, ShipmentBook):
    """Subscriptions and their thin, unsigned deliveries. See the module doc."""

    base_url: str
    retry_schedule: tuple[datetime.timedelta, ...] = RETRY_SCHEDULE
    exhaustion: Exhaustion = "disable"

    def reset_hooks(self) -> None:
        with self._lock:
            self.reset_webhooks()
            self.webhooks: dict[int, dict[str, Any]] = {}
            self._webhook_ids = itertools.count(FIRST_WEBHOOK_ID)
            self._emitting_store: int | None = None

    # --- subscriptions -------------------------------------------------------------------------------

    def subscribe(
        self, target_url: str, event: str, *, store_id: int | None = None, friendly_name: str | None = None
    ) -> int:
        """A subscription as ``POST /webhooks/subscribe`` makes it; its id."""
        with self._lock:
            hook_id = next(self._webhook_ids)
            self.webhooks[hook_id] = {
                "id": hook_id,
                "url": target_url,
                "event": event,
                "store_id": store_id,
                "name": friendly_name,
                "active": True,
            }
            return hook_id

    def subscribe_request(self, payload: Any) -> dict[str, Any]:
        """``POST /webhooks/subscribe``: ``{"id": n}``; 400 for a missing target or an unknown event."""
        if not isinstance(payload, dict):
            raise invalid({"request": ["The request field is required."]})
        errors: dict[str, list[str]] = {}
        target, event, store = payload.get("target_url"), payload.get("event"), payload.get("store_id")
        if not isinstance(target, str) or not target.startswith(("http://", "https://")):
            errors["request.target_url"] = ["The target_url field is required."]
        if event not in EVENTS:
            errors["request.event"] = [f"The value '{event}' is not valid for event."]
        if store is not None and store not in self.stores:
            errors["request.store_id"] = [f"Invalid store_id: {store}."]
        if errors:
            raise invalid(errors)
        name = payload.get("friendly_name")
        return {"id": self.subscribe(str(target), str(event), store_id=store, friendly_name=name)}

    def list_webhooks(self) -> dict[str, Any]:
        """``GET /webhooks``."""
        return {
            "webhooks": [
                {
                    "IsLabelAPIHook": False,
                    "WebHookID": hook["id"],
                    "SellerID": SELLER_ID,
                    "StoreID": hook["store_id"],
                    "HookType": hook["event"],
                    "MessageFormat": "Json",
                    "Url": hook["url"],
                    "Name": hook["name"],
                    "BulkCopyBatchID": None,
                    "BulkCopyRecordID": None,
                    "Active": hook["active"],
                    "WebhookLogs": [],
                    "Seller": None,
                    "Store": None,
                }
                for hook in self.webhooks.values()
            ]
        }

    def unsubscribe(self, hook_id: int) -> None:
        """``DELETE /webhooks/{id}``: nothing more is sent to it (what was queued is cancelled)."""
        with self._lock:
            if self.webhooks.pop(hook_id, None) is None:
                raise not_found(f"{self.base_url}/webhooks/{hook_id}")
            for delivery in self.outbox:
                if delivery.subscription_id == hook_id and delivery.state == "queued":
                    delivery.state = "cancelled"

    def activate_webhook(self, hook_id: int) -> None:
        """The merchant turns a deactivated subscription back on."""
        with self._lock:
            self.webhooks[hook_id]["active"] = True
            self.enable_subscription(hook_id)

    # --- what is sent --------------------------------------------------------------------------------

    def _notify_shipped(self, store_id: int, batch: int) -> None:
        base = f"{self.base_url}/shipments?storeID={store_id}&batchId={batch}"
        self._notify("SHIP_NOTIFY", store_id, f"{base}&includeShipmentItems=False")
        self._notify("ITEM_SHIP_NOTIFY", store_id, f"{base}&includeShipmentItems=True")

    def notify_orders(self, store_id: int, import_batch: str) -> None:
        """New orders were imported in ``import_batch`` (ORDER_NOTIFY, ITEM_ORDER_NOTIFY)."""
        url = f"{self.base_url}/orders?storeID={store_id}&importBatch={import_batch}"
        self._notify("ORDER_NOTIFY", store_id, url)
        self._notify("ITEM_ORDER_NOTIFY", store_id, url)

    def _notify(self, event: str, store_id: int, resource_url: str) -> None:
        with self._lock:
            self._emitting_store = store_id
            try:
                self._emit(event, {"resource_url": resource_url, "resource_type": event})
            finally:
                self._emitting_store = None

    # --- the sender's dialect --------------------------------------------------------------------------

    def _subscriptions(self, topic: str) -> Iterable[Mapping[str, Any]]:
        store = self._emitting_store
        return [
            {"id": hook["id"], "address": hook["url"]}
            for hook in self.webhooks.values()
            if hook["active"] and hook["event"] == topic and hook["store_id"] in (None, store)
        ]

    def _render(
        self,
        subscription: Mapping[str, Any],
        topic: str,
        payload: Mapping[str, Any],
        *,
        delivery_id: str,
        event_id: str,
        moment: datetime.datetime,
    ) -> tuple[dict[str, str], bytes]:
        body = {"resource_url": payload["resource_url"], "resource_type": payload["resource_type"]}
        return dict(HEADERS), json.dumps(body).encode()

    def _give_up(self, subscription_id: Any, policy: Exhaustion) -> None:
        super()._give_up(subscription_id, policy)
        hook = self.webhooks.get(subscription_id)
        if hook is not None:
            hook["active"] = False

    def _delete_subscription(self, subscription_id: Any) -> None:
        self.webhooks.pop(subscription_id, None)
