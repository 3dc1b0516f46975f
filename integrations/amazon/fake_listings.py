"""The fake Amazon's Listings Items API 2021-08-01 (``ListingsApi``) and the rules a listing's
patches are checked by, shared with the JSON_LISTINGS_FEED messages (``fake_feeds``).

``PATCH /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=...[&mode=VALIDATION_PREVIEW]``
with ``{"productType", "patches": [{"op", "path", "value"}]}`` sets the MFN quantity through
``/attributes/fulfillment_availability`` (``[{"fulfillment_channel_code": "DEFAULT", "quantity": n}]``);
``/attributes/purchasable_offer`` is accepted and ignored (prices stay the catalogue's); any
other path, a product type other than the listing's, a quantity that is not a whole number
>= 0, a value not in that shape, a listing fulfilled by Amazon (its stock is Amazon's) or a SKU
a test refused (``refuse_listing``) is ``"INVALID"`` with issues, answered 200 as Amazon does.
A wrong seller is 403, an unknown SKU 404 ``NOT_FOUND``.

``GET`` answers the ``includedData`` asked for (default ``summaries``): ``summaries``,
``attributes``, ``fulfillmentAvailability``, ``issues``.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from integrations.amazon.fake_data import MARKETPLACE_ID, SELLER_ID, Problem, errors, iso, not_found
from integrations.amazon.fake_data import invalid_input as bad_input
from integrations.fakes.clock import Clock
from integrations.fakes.pagination import BadCursor, decode_cursor, encode_cursor

QUANTITY_PATH = "/attributes/fulfillment_availability"
IGNORED_PATHS = ("/attributes/purchasable_offer",)
INCLUDED_DATA = ("summaries", "attributes", "fulfillmentAvailability", "issues")


def issue(code: str, message: str, attributes: list[str] | None = None) -> dict[str, Any]:
    """One listings issue, as ``listings_patch_response_invalid.json``."""
    return {
        "code": code,
        "message": message,
        "severity": "ERROR",
        "attributeNames": list(attributes or []),
        "categories": ["INVALID_ATTRIBUTE"] if attributes else [],
    }


def _invalid_attributes(name: str) -> dict[str, Any]:
    return issue("90000900", "The attributes are invalid.", [name])


def check_patches(
    listing: dict[str, Any], product_type: Any, patches: Any, refusal: str | None
) -> tuple[list[dict[str, Any]], int | None]:
    """The issues of a patch set for ``listing`` and the MFN quantity it sets (None: unchanged)."""
    if refusal is not None:
        return [issue("8541", refusal, ["fulfillment_availability"])], None
    if product_type != listing["productType"]:
        message = (
            f"The provided product type '{product_type}' does not match the product type "
            f"'{listing['productType']}' of the listing."
        )
        return [issue("4000001", message, [])], None
    if not isinstance(patches, list) or not patches:
        message = "'[fulfillment_availability]' is required but not supplied."
        return [issue("90220", message, ["fulfillment_availability"])], None
    quantity: int | None = None
    issues: list[dict[str, Any]] = []
    for patch in patches:
        if not isinstance(patch, dict):
            issues.append(issue("4000001", "A patch must be an object with op, path and value.", []))
            continue
        path, op = patch.get("path"), patch.get("op")
        if path in IGNORED_PATHS:
            continue
        name = str(path).rsplit("/", 1)[-1] if path else "patches"
        if path != QUANTITY_PATH:
            issues.append(_invalid_attributes(name))
            continue
        if op not in ("add", "replace", "merge"):
            issues.append(_invalid_attributes(name))
            continue
        if listing["fba_only"]:
            message = (
                "The fulfillment_availability of a listing fulfilled by Amazon cannot be changed: "
                "Amazon manages its inventory."
            )
            issues.append(issue("8566", message, ["fulfillment_availability"]))
            continue
        value = _quantity(patch.get("value"))
        if value is None:
            issues.append(_invalid_attributes(name))
            continue
        quantity = value
    return issues, (None if issues else quantity)


def _quantity(value: Any) -> int | None:
    """The DEFAULT quantity of a ``fulfillment_availability`` value; None when it is malformed."""
    if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], dict):
        return None
    entry = value[0]
    if set(entry) - {"fulfillment_channel_code", "quantity", "marketplace_id", "lead_time_to_ship_max_days"}:
        return None
    quantity = entry.get("quantity")
    if entry.get("fulfillment_channel_code") != "DEFAULT" or entry.get("marketplace_id", MARKETPLACE_ID) != (
        MARKETPLACE_ID
    ):
        return None
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        return None
    return quantity


def _marketplace(params: dict[str, str]) -> None:
    ids = [m for m in params.get("marketplaceIds", "").split(",") if m]
    if not ids:
        raise bad_input("Missing required 'marketplaceIds'.")
    unknown = [m for m in ids if m != MARKETPLACE_ID]
    if unknown:
        raise bad_input(f"Invalid marketplaceIds: {', '.join(unknown)}.")


class ListingsApi:
    """The listings and their PATCH / GET; mixed into ``FakeAmazon``. Holds ``_lock``."""

    clock: Clock
    _lock: threading.RLock
    listings: dict[str, dict[str, Any]]
    refusals: dict[str, str]
    submissions: list[dict[str, Any]]
    patch_requests: int

    def _listing(self, seller_id: str, sku: str) -> dict[str, Any]:
        if seller_id != SELLER_ID:
            raise Problem(403, errors("Unauthorized", "Access to requested resource is denied.", ""))
        listing = self.listings.get(sku)
        if listing is None:
            raise not_found(f"SKU '{sku}' not found in marketplace {MARKETPLACE_ID}", code="NOT_FOUND")
        return listing

    def patch_listing(self, seller_id: str, sku: str, params: dict[str, str], body: Any) -> dict[str, Any]:
        """``patchListingsItem``: the submission's status and issues (see the module doc)."""
        _marketplace(params)
        listing = self._listing(seller_id, sku)
        self.patch_requests += 1
        if not isinstance(body, dict):
            raise bad_input("The request body must be a JSON object with productType and patches.")
        issues, quantity = check_patches(
            listing, body.get("productType"), body.get("patches"), self.refusals.get(sku)
        )
        preview = params.get("mode") == "VALIDATION_PREVIEW"
        if issues:
            status = "INVALID"
        elif preview:
            status = "VALID"
        else:
            status = "ACCEPTED"
            if quantity is not None:
                self.set_listing_quantity(sku, quantity, via="patchListingsItem")
        return {"sku": sku, "status": status, "submissionId": uuid.uuid4().hex, "issues": issues}

    def set_listing_quantity(self, sku: str, quantity: int, *, via: str) -> None:
        """Set the MFN quantity (a PATCH, a feed message or a test) and note the submission."""
        listing = self.listings[sku]
        listing["mfn"] = quantity
        listing["updated"] = iso(self.clock())
        self.submissions.append({"sku": sku, "quantity": quantity, "via": via, "at": listing["updated"]})

    def get_listing(self, seller_id: str, sku: str, params: dict[str, str]) -> dict[str, Any]:
        """``getListingsItem``: the parts of the listing ``includedData`` asks for."""
        _marketplace(params)
        listing = self._listing(seller_id, sku)
        wanted = [d for d in params.get("includedData", "summaries").split(",") if d] or ["summaries"]
        unknown = [d for d in wanted if d not in INCLUDED_DATA]
        if unknown:
            raise bad_input(f"Invalid includedData: {', '.join(unknown)}.")
        fba = listing["fba_only"]
        code = "AMAZON_NA" if fba else "DEFAULT"
        quantity = listing["afn"] if fba else listing["mfn"]
        answer: dict[str, Any] = {"sku": sku}
        if "summaries" in wanted:
            answer["summaries"] = [
                {
                    "marketplaceId": MARKETPLACE_ID,
                    "asin": listing["asin"],
                    "productType": listing["productType"],
                    "conditionType": "new_new",
                    "status": ["BUYABLE", "DISCOVERABLE"],
                    "itemName": listing["title"],
                    "createdDate": "2026-03-01T12:00:00Z",
                    "lastUpdatedDate": listing["updated"],
                }
            ]
        if "attributes" in wanted:
            availability: dict[str, Any] = {
                "fulfillment_channel_code": code,
                "marketplace_id": MARKETPLACE_ID,
            }
            if not fba:
                availability["quantity"] = quantity
            answer["attributes"] = {
                "item_name": [{"value": listing["title"], "marketplace_id": MARKETPLACE_ID}],
                "purchasable_offer": [
                    {
                        "currency": "USD",
                        "marketplace_id": MARKETPLACE_ID,
                        "our_price": [{"schedule": [{"value_with_tax": float(listing["price"])}]}],
                    }
                ],
                "fulfillment_availability": [availability],
            }
        if "fulfillmentAvailability" in wanted:
            answer["fulfillmentAvailability"] = [{"fulfillmentChannelCode": code, "quantity": quantity}]
        if "issues" in wanted:
            answer["issues"] = []
        return answer

    def search_listings(self, seller_id: str, params: dict[str, str]) -> dict[str, Any]:
        """``searchListingsItems``: the seller's listings, SKU order, ``pageSize`` (1..20, default
        10) a page, ``pagination.nextToken`` while more follow; each as getListingsItem draws it."""
        if seller_id != SELLER_ID:
            raise Problem(403, errors("Unauthorized", "Access to requested resource is denied.", ""))
        _marketplace(params)
        try:
            size = int(params.get("pageSize") or 10)
        except ValueError:
            raise bad_input("pageSize must be an integer.") from None
        if not 1 <= size <= 20:
            raise bad_input("pageSize must be between 1 and 20.")
        skus = sorted(self.listings)
        start = 0
        if params.get("pageToken"):
            try:
                start = skus.index(decode_cursor(params["pageToken"], required=("after",))["after"]) + 1
            except (BadCursor, ValueError):
                raise bad_input("Invalid pageToken.") from None
        chunk = skus[start : start + size]
        answer: dict[str, Any] = {
            "numberOfResults": len(skus),
            "pagination": {},
            "items": [self.get_listing(seller_id, sku, params) for sku in chunk],
        }
        if start + size < len(skus):
            answer["pagination"]["nextToken"] = encode_cursor({"after": chunk[-1]})
        if start:
            answer["pagination"]["previousToken"] = encode_cursor({"after": skus[max(start - size - 1, 0)]})
        return answer
