"""The fake Shopify's GraphQL Admin API: the two operations the connector uses, with the cost throttle."""

from __future__ import annotations

import datetime
from typing import Any

from integrations.shopify.fake_data import sample
from integrations.shopify.fake_state import ShopState, _gid_id


class GraphqlApi(ShopState):
    """``POST graphql.json``: inventorySetQuantities (compare-and-set) and an inventory level read.

    Operations are recognised by name in the query text (this is a fake, not a GraphQL
    server); throttling follows Shopify's calculated cost (a points bucket that restores
    ``graphql_restore_rate`` points a second), answered as HTTP 200 with a THROTTLED error.
    """

    graphql_points: float
    graphql_restore_rate: float
    _points: float

    # --- GraphQL (the two operations the connector uses) -----------------------------------------

    def _graphql(self, payload: Any) -> tuple[int, Any, dict[str, str]]:
        query = str((payload or {}).get("query") or "")
        variables = (payload or {}).get("variables") or {}
        cost = 10
        if self._points < cost:
            throttled = sample("graphql_throttled_response.json")
            throttled["extensions"]["cost"].update(requestedQueryCost=cost)
            throttled["extensions"]["cost"]["throttleStatus"].update(
                maximumAvailable=self.graphql_points,
                currentlyAvailable=int(self._points),
                restoreRate=self.graphql_restore_rate,
            )
            return 200, throttled, {}
        self._points -= cost
        extensions = {
            "cost": {
                "requestedQueryCost": cost,
                "actualQueryCost": cost,
                "throttleStatus": {
                    "maximumAvailable": self.graphql_points,
                    "currentlyAvailable": int(self._points),
                    "restoreRate": self.graphql_restore_rate,
                },
            }
        }
        if "inventorySetQuantities" in query:
            data: dict[str, Any] = {
                "inventorySetQuantities": self._set_quantities(variables.get("input") or {})
            }
        elif "inventoryLevel" in query:
            item_id, location_id = (
                _gid_id(variables.get("inventoryItemId")),
                _gid_id(variables.get("locationId")),
            )
            level = self.levels.get((item_id or 0, location_id or 0))
            known = item_id in self._inventory_item_ids()
            data = {
                "inventoryItem": None
                if not known
                else {
                    "inventoryLevel": None
                    if level is None
                    else {"quantities": [{"name": "available", "quantity": level["available"]}]}
                }
            }
        else:
            return 200, {"errors": [{"message": "The fake Shopify does not implement this operation."}]}, {}
        return 200, {"data": data, "extensions": extensions}, {}

    def _set_quantities(self, data: dict[str, Any]) -> dict[str, Any]:
        errors = []
        changes = []
        if data.get("name") not in ("available", "on_hand"):
            errors.append(
                {
                    "code": "INVALID_NAME",
                    "field": ["input", "name"],
                    "message": "The quantity name is invalid.",
                }
            )
        ignore_compare = bool(data.get("ignoreCompareQuantity"))
        plan = []
        for index, entry in enumerate(data.get("quantities") or ()):
            field_path = ["input", "quantities", str(index)]
            item_id, location_id = _gid_id(entry.get("inventoryItemId")), _gid_id(entry.get("locationId"))
            if item_id not in self._inventory_item_ids():
                errors.append(
                    {
                        "code": "INVALID_INVENTORY_ITEM",
                        "field": [*field_path, "inventoryItemId"],
                        "message": "The specified inventory item could not be found.",
                    }
                )
                continue
            if location_id not in self.locations:
                errors.append(
                    {
                        "code": "INVALID_LOCATION",
                        "field": [*field_path, "locationId"],
                        "message": "The specified location could not be found.",
                    }
                )
                continue
            assert item_id is not None
            assert location_id is not None
            current = (self.levels.get((item_id, location_id)) or {}).get("available") or 0
            for key, code in (
                ("changeFromQuantity", "CHANGE_FROM_QUANTITY_STALE"),
                ("compareQuantity", "COMPARE_QUANTITY_STALE"),
            ):
                if key in entry and entry[key] is not None and not ignore_compare and entry[key] != current:
                    errors.append(
                        {
                            "code": code,
                            "field": [*field_path, key],
                            "message": "The specified compare quantity does not match the current quantity.",
                        }
                    )
                    break
            else:
                plan.append((item_id, location_id, int(entry["quantity"]), current))
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        for item_id, location_id, quantity, current in plan:
            self._set_level(item_id, location_id, quantity)
            changes.append(
                {"name": "available", "delta": quantity - current, "quantityAfterChange": quantity}
            )
        return {
            "inventoryAdjustmentGroup": {
                "createdAt": self.clock().astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "reason": data.get("reason"),
                "referenceDocumentUri": data.get("referenceDocumentUri"),
                "changes": changes,
            },
            "userErrors": [],
        }
