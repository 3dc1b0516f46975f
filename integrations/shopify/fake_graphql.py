"""The fake Shopify's GraphQL Admin API: the two operations the connector uses, with the cost throttle.

``inventorySetQuantities`` and its ``@idempotent(key: "...")`` directive, by API version
(Shopify changelogs "Adding idempotency for inventory adjustments and refund mutations",
2026-01, and "Making idempotency mandatory…", 2026-04):

* before 2026-01 the directive does not exist: a query that uses it is a GraphQL
  validation error (``Directive @idempotent is not defined``, graphql-ruby's wording);
* 2026-01: optional; honoured when given;
* from 2026-04: required. Without it the answer is a top-level GraphQL error, "The
  @idempotent directive is required for this mutation but was not provided." (the message
  integrators report; the schema does not mark it required, the check is at runtime), and
  ``data.inventorySetQuantities`` is null: nothing is applied.

The key is a string literal or a ``$variable``. The same key with the same input (the
variables other than the key, compared as canonical JSON) returns the first result and
changes nothing; the same key with another input is the user error
``IDEMPOTENCY_KEY_PARAMETER_MISMATCH``. Keys are kept per shop until ``reset``. The fake's
choice where Shopify says nothing: an attempt answered with user errors (a stale compare
quantity) keeps its key's input but not its result, so the identical request may be sent
again with that key and is evaluated afresh.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from integrations.fakes.ratelimit import TokenBucket
from integrations.shopify.fake_data import sample
from integrations.shopify.fake_state import ShopState, _gid_id

IDEMPOTENT_FROM = "2026-01"
IDEMPOTENT_REQUIRED_FROM = "2026-04"
IDEMPOTENT_REQUIRED = "The @idempotent directive is required for this mutation but was not provided."
KEY_MISMATCH = "The same idempotency key cannot be used with different operation parameters."
_IDEMPOTENT = re.compile(
    r'@idempotent\s*\(\s*key\s*:\s*(?:"(?P<literal>(?:[^"\\]|\\.)*)"|\$(?P<variable>\w+))\s*\)'
)


def _at_least(version: str, floor: str) -> bool:
    return version == "unstable" or version >= floor


class GraphqlApi(ShopState):
    """``POST graphql.json``: inventorySetQuantities (compare-and-set) and an inventory level read.

    Operations are recognised by name in the query text (this is a fake, not a GraphQL
    server); throttling follows Shopify's calculated cost (``points``, a token bucket that restores
    ``graphql_restore_rate`` points a second), answered as HTTP 200 with a THROTTLED error.
    """

    graphql_points: float
    graphql_restore_rate: float
    points: TokenBucket  # the calculated-cost bucket: graphql_points, restored graphql_restore_rate a second

    def reset_state(self, *, seed: bool = True) -> None:
        with self._lock:
            # idempotency key -> (canonical input, the first result or None when it had user errors)
            self.idempotency_keys: dict[str, tuple[str, dict[str, Any] | None]] = {}
        super().reset_state(seed=seed)

    # --- GraphQL (the two operations the connector uses) -----------------------------------------

    def _graphql(self, payload: Any, version: str) -> tuple[int, Any, dict[str, str]]:
        query = str((payload or {}).get("query") or "")
        variables = (payload or {}).get("variables") or {}
        cost = 10
        if self.points.take(cost) > 0:
            throttled = sample("graphql_throttled_response.json")
            throttled["extensions"]["cost"].update(requestedQueryCost=cost)
            throttled["extensions"]["cost"]["throttleStatus"].update(
                maximumAvailable=self.graphql_points,
                currentlyAvailable=int(self.points.available),
                restoreRate=self.graphql_restore_rate,
            )
            return 200, throttled, {}
        extensions = {
            "cost": {
                "requestedQueryCost": cost,
                "actualQueryCost": cost,
                "throttleStatus": {
                    "maximumAvailable": self.graphql_points,
                    "currentlyAvailable": int(self.points.available),
                    "restoreRate": self.graphql_restore_rate,
                },
            }
        }
        if "inventorySetQuantities" in query:
            directive = _IDEMPOTENT.search(query)
            if directive is not None and not _at_least(version, IDEMPOTENT_FROM):
                error = {
                    "message": "Directive @idempotent is not defined",
                    "extensions": {"code": "undefinedDirective", "directiveName": "idempotent"},
                }
                return 200, {"errors": [error]}, {}
            if directive is None and _at_least(version, IDEMPOTENT_REQUIRED_FROM):
                error = {"message": IDEMPOTENT_REQUIRED, "path": ["inventorySetQuantities"]}
                return 200, {"errors": [error], "data": {"inventorySetQuantities": None}}, {}
            key = None
            if directive is not None:
                key = directive["literal"] or variables.get(directive["variable"] or "")
                if not key:
                    error = {"message": "The @idempotent directive's key must be a non-empty string."}
                    return 200, {"errors": [error], "data": {"inventorySetQuantities": None}}, {}
            data: dict[str, Any] = {"inventorySetQuantities": self._idempotent_set(variables, key, directive)}
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

    def _idempotent_set(self, variables: dict[str, Any], key: Any, directive: Any) -> dict[str, Any]:
        if key is None:
            return self._set_quantities(variables.get("input") or {})
        arguments = {k: v for k, v in variables.items() if k != (directive["variable"] or "")}
        fingerprint = json.dumps(arguments, sort_keys=True, separators=(",", ":"))
        known = self.idempotency_keys.get(str(key))
        if known is not None and known[0] != fingerprint:
            return {
                "inventoryAdjustmentGroup": None,
                "userErrors": [
                    {
                        "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                        "field": None,
                        "message": KEY_MISMATCH,
                    }
                ],
            }
        if known is not None and known[1] is not None:
            return json.loads(json.dumps(known[1]))  # the first result, nothing applied again
        result = self._set_quantities(variables.get("input") or {})
        self.idempotency_keys[str(key)] = (fingerprint, None if result["userErrors"] else result)
        return json.loads(json.dumps(result))

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
