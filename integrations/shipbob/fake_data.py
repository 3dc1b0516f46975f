"""Constants, seed data, samples, error bodies and wire-format helpers of the fake ShipBob.

The samples (``samples/``, copied byte-exact from the shared ShipBob payloads) are the source of
truth for shapes: ``order_create_response_201.json`` is the Order (and its Shipment) every answer
and every webhook body takes, ``inventory_level_*`` the inventory pages, ``webhook_*`` the
subscription and the signed delivery. Dates are ISO 8601 UTC with milliseconds and ``Z``
(``2026-03-14T14:22:40.117Z``). No Django, no I/O beyond the samples.

Errors are raised as ``Problem(status, body)`` and answered as they are: 400 is the field ->
messages map (``{"recipient.address.address1": ["The address1 field is required."]}``), 422 is
``{"errors": ["..."]}``, 401/403/404 have no body. ``validate_order`` is ShipBob's 400 check of a
new order.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).parent / "samples"

API_HOST = "api.shipbob.com"
BASE_URL = f"https://{API_HOST}"
VERSION = "2026-01"
# The Personal Access Token the tests, the demo and the simulated day use.
ACCESS_TOKEN = "shipbob_fake_pat_7f3c1a9e5b2d4f6081a2c3d4e5f60718"
# The channel of the PAT's application (the samples' ``channel``) and ShipBob's own read-only one.
CHANNEL_ID = 100102
CHANNEL_NAME = "ERP Connector"
DEFAULT_CHANNEL_ID = 100101
WRITE_SCOPES = (
    "channels_read",
    "orders_read",
    "orders_write",
    "products_read",
    "products_write",
    "inventory_read",
    "receiving_read",
    "receiving_write",
    "locations_read",
    "webhooks_read",
    "webhooks_write",
    "fulfillments_read",
)
READ_SCOPES = tuple(s for s in WRITE_SCOPES if s.endswith("_read"))

FULFILLMENT_CENTERS: dict[int, str] = {10: "Cicero (IL)", 24: "Moreno Valley (CA)"}
# What a fulfilment centre's address looks like in a receiving order (others get a generic one).
CENTER_ADDRESSES: dict[int, dict[str, str]] = {
    10: {
        "address1": "5900 W Ogden Ave",
        "address2": "Suite 100",
        "city": "Cicero",
        "country": "USA",
        "email": "cicero@shipbob.example",
        "phone_number": "555-555-5555",
        "state": "IL",
        "timezone": "Central Standard Time",
        "zip_code": "60804",
    },
    24: {
        "address1": "17800 Perris Blvd",
        "address2": "",
        "city": "Moreno Valley",
        "country": "USA",
        "email": "morenovalley@shipbob.example",
        "phone_number": "555-555-5556",
        "state": "CA",
        "timezone": "Pacific Standard Time",
        "zip_code": "92551",
    },
}

# The catalogue: SKU -> name (the same SKUs as the other fakes), inventory ids as in the samples.
PRODUCTS: dict[str, str] = {
    "TENT-2P-GRN": "Trail Tent 2P - Green",
    "SLBAG-20F-REG": "Down Sleeping Bag 20F - Regular",
    "TENT-2P-ORG": "Trail Tent 2P - Orange",
    "STOVE-TI-01": "Titanium Backpacking Stove",
}
# On hand per SKU per fulfilment centre at the start.
STOCK: dict[str, dict[int, int]] = {
    "TENT-2P-GRN": {10: 40, 24: 17},
    "SLBAG-20F-REG": {10: 12, 24: 0},
    "TENT-2P-ORG": {10: 8, 24: 6},
    "STOVE-TI-01": {10: 25, 24: 10},
}
FIRST_INVENTORY_ID = 8812001
FIRST_PRODUCT_ID = 451234001
FIRST_ORDER_ID = 312345678
FIRST_SHIPMENT_ID = 287654321
FIRST_WRO_ID = 740001
FIRST_SUBSCRIPTION_ID = 12345

ORDER_TYPES = ("DTC", "B2B", "DropShip")
PACKAGE_TYPES = ("Package", "Pallet", "FloorLoadedContainer")
PACKING_TYPES = ("EverythingInOneBox", "OneSkuPerBox", "MultipleSkuPerBox")
TOPICS = (
    "order.shipped",
    "order.shipment.delivered",
    "order.shipment.exception",
    "order.shipment.on_hold",
    "order.shipment.cancelled",
    "return.created",
    "return.updated",
    "return.completed",
    "billing.charge.created",
    "billing.refund.created",
    "billing.credit.created",
)

# Shipment status details (``status_details``): id, name, description.
PROCESSING_DETAIL = (1, "Processing", "Awaiting fulfillment")
OUT_OF_STOCK_DETAIL = (2, "OutOfStock", "No inventory available at any fulfillment center")
LABELED_DETAIL = (3, "Labeled", "Label printed")
DELIVERED_DETAIL = (4, "Delivered", "Delivered to the recipient")
ON_HOLD_DETAIL = (5, "OnHold", "On hold")
CANCELLED_DETAIL = (6, "Cancelled", "Cancelled")

CARRIER_SERVICES = {"USPS": "Priority", "UPS": "Ground", "FedEx": "Home Delivery", "DHL": "Express"}
TRACKING_URLS = {
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "UPS": "https://www.ups.com/track?tracknum={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
}


class Problem(Exception):
    """An error answer: ``status`` and its JSON ``body`` (None: no body)."""

    def __init__(self, status: int, body: Any = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def invalid(errors: Mapping[str, str | list[str]]) -> Problem:
    """400: ShipBob's field -> messages map."""
    return Problem(400, {k: [v] if isinstance(v, str) else list(v) for k, v in errors.items()})


def unprocessable(*messages: str) -> Problem:
    """422: ``{"errors": [...]}``."""
    return Problem(422, {"errors": list(messages)})


def not_found() -> Problem:
    return Problem(404)


def rate_limited_body(seconds: int) -> dict[str, Any]:
    """The 429 body (``error_429.json``)."""
    return {"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {seconds} seconds."}


def iso(moment: datetime.datetime | None) -> str | None:
    """ShipBob's timestamps: UTC, milliseconds, ``Z``."""
    if moment is None:
        return None
    moment = moment.astimezone(datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_seconds(moment: datetime.datetime) -> str:
    """A timestamp to the second (``2026-03-15T18:02:55Z``), as purchase and shipping dates are."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_end(moment: datetime.datetime, days: int = 1) -> str:
    """An estimated fulfilment date: 23:00Z ``days`` after ``moment``."""
    target = (moment.astimezone(datetime.UTC) + datetime.timedelta(days=days)).date()
    return f"{target.isoformat()}T23:00:00Z"


def sample_bytes(name: str) -> bytes:
    """A sample file's exact bytes (signatures are over these)."""
    return (SAMPLES / name).read_bytes()


def sample(name: str) -> Any:
    """A parsed sample (a fresh copy each time)."""
    return json.loads(sample_bytes(name))


def sample_webhook_headers() -> dict[str, str]:
    """The sample delivery's headers (``webhook_headers.json``) without its ``_comment``."""
    return {k: v for k, v in sample("webhook_headers.json").items() if not k.startswith("_")}


def sample_secret() -> str:
    """The subscription secret that signed the sample delivery (its ``_comment`` names it)."""
    return str(sample("webhook_subscribe_request.json")["secret"])


def center_view(location_id: int, name: str) -> dict[str, Any]:
    """A fulfilment centre as a receiving order shows it."""
    address = CENTER_ADDRESSES.get(
        location_id,
        {
            "address1": "1 Warehouse Way",
            "address2": "",
            "city": name.split(" (")[0],
            "country": "USA",
            "email": "fc@shipbob.example",
            "phone_number": "555-555-5500",
            "state": "",
            "timezone": "Central Standard Time",
            "zip_code": "00000",
        },
    )
    return {
        "address1": address["address1"],
        "address2": address["address2"],
        "city": address["city"],
        "country": address["country"],
        "email": address["email"],
        "id": location_id,
        "name": name,
        "phone_number": address["phone_number"],
        "state": address["state"],
        "timezone": address["timezone"],
        "zip_code": address["zip_code"],
    }


def status_detail(
    detail: tuple[int, str, str], *, inventory_id: int | None = None, center_id: int | None = None
) -> dict[str, Any]:
    number, name, description = detail
    return {
        "id": number,
        "name": name,
        "description": description,
        "inventory_id": inventory_id,
        "exception_fulfillment_center_id": center_id,
        "extra_information": None,
    }


def tracking_view(carrier: str, number: str, shipped_at: datetime.datetime) -> dict[str, Any]:
    url = TRACKING_URLS.get(carrier)
    return {
        "carrier": carrier,
        "carrier_service": CARRIER_SERVICES.get(carrier, "Standard"),
        "tracking_number": number,
        "tracking_url": url.format(number) if url else None,
        "shipping_date": iso_seconds(shipped_at),
        "bol": None,
        "pro_number": None,
        "scac": None,
    }


def tracking_number(carrier: str, serial: int) -> str:
    """A carrier-shaped tracking number, unique per ``serial``."""
    if carrier == "USPS":
        return f"9400111899{serial:012d}"
    if carrier == "UPS":
        return f"1Z999AA1{serial:010d}"
    if carrier == "FedEx":
        return f"7{serial:011d}"
    return f"{carrier.upper()[:3]}{serial:012d}"


def address_view(address: Mapping[str, Any]) -> dict[str, Any]:
    """A recipient address with every key the Order shows (the sample's order)."""
    return {
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "company_name": address.get("company_name"),
        "country": address.get("country"),
        "state": address.get("state"),
        "zip_code": address.get("zip_code"),
    }


def validate_order(payload: Any, centers: Mapping[int, str]) -> list[dict[str, Any]]:
    """ShipBob's 400 checks of a new order; its product lines when they pass."""
    if not isinstance(payload, dict):
        raise invalid({"": "A non-empty request body is required."})
    errors: dict[str, str] = {}
    for name in ("reference_id", "shipping_method", "type"):
        value = payload.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[name] = f"The {name} field is required."
    if isinstance(payload.get("type"), str) and payload["type"] and payload["type"] not in ORDER_TYPES:
        errors["type"] = f"The value '{payload['type']}' is not valid for type."
    recipient = payload.get("recipient")
    if not isinstance(recipient, dict):
        errors["recipient"] = "The recipient field is required."
    else:
        if not recipient.get("name"):
            errors["recipient.name"] = "The name field is required."
        address = recipient.get("address")
        if not isinstance(address, dict):
            errors["recipient.address"] = "The address field is required."
        else:
            for name in ("address1", "city", "country"):
                if not address.get(name):
                    errors[f"recipient.address.{name}"] = f"The {name} field is required."
    products = payload.get("products")
    lines: list[dict[str, Any]] = []
    if not isinstance(products, list) or not products:
        errors["products"] = "The products field is required."
    else:
        for index, line in enumerate(products):
            where = f"products[{index}]"
            if not isinstance(line, dict):
                errors[where] = "The product is invalid."
                continue
            if not line.get("reference_id") and not isinstance(line.get("id"), int):
                errors[f"{where}.reference_id"] = "Either reference_id or id is required."
            quantity = line.get("quantity")
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
                errors[f"{where}.quantity"] = "The field quantity must be between 1 and 2147483647."
            lines.append(line)
    location_id = payload.get("location_id")
    if location_id is not None and location_id not in centers:
        errors["location_id"] = f"Fulfillment center {location_id} does not exist."
    if errors:
        raise invalid(errors)
    return lines
