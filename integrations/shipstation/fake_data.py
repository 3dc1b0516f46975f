"""Constants, the copied samples, dates and error bodies of the local fake ShipStation (API V1).

The samples (``samples/``, copied from the shared ShipStation V1 payloads) are the source of truth
for shapes: an order answer has exactly the keys of ``createorder_response.json`` in its order, a
shipment those of ``list_shipments_response.json``. ShipStation speaks US Pacific local time
without an offset: ``2026-03-15T05:58:44.4230000`` (seven fractional digits) for an order's and a
shipment's dates, ``2026-03-14T07:22:15.39`` (SQL ``datetime``, trailing zeros trimmed) for an
order item's, ``YYYY-MM-DD`` for a ship date. Errors are ASP.NET Web API's: 400
``{"Message": "The request is invalid.", "ModelState": {...}}``, 500 ``{"Message": "An error has
occurred.", "ExceptionMessage", "ExceptionType", "StackTrace": null}``.
"""

from __future__ import annotations

import datetime
import json
import re
import zoneinfo
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).parent / "samples"

API_HOST = "ssapi.shipstation.com"
BASE_URL = f"https://{API_HOST}"
API_KEY = "ss_fake_api_key_0123456789abcdef"
API_SECRET = "ss_fake_api_secret_fedcba9876543210"
STORE_ID = 12345  # the samples' store
WAREHOUSE_ID = 37675  # the samples' ship-from warehouse
SELLER_ID = 214711
USER_ID = "c9f06d74-95de-4263-9b04-e87095cababf"  # the samples' label printer
FIRST_ORDER_ID = 987654321
FIRST_ORDER_ITEM_ID = 1122334455
FIRST_SHIPMENT_ID = 72513480
FIRST_BATCH = 100301
FIRST_WEBHOOK_ID = 123456
FIRST_PRODUCT_ID = 987654321

RATE_LIMIT = 40  # requests a minute per API key pair
RATE_WINDOW_SECONDS = 60.0

PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")

OPEN_STATUSES = ("awaiting_payment", "awaiting_shipment", "pending_fulfillment", "on_hold")
STATUSES = (*OPEN_STATUSES, "shipped", "cancelled")
SHIPPABLE = ("awaiting_shipment", "pending_fulfillment")
EVENTS = ("ORDER_NOTIFY", "ITEM_ORDER_NOTIFY", "SHIP_NOTIFY", "ITEM_SHIP_NOTIFY")
WEIGHT_UNITS = {"ounces": 1, "pounds": 2, "grams": 3}  # ``WeightUnits``; ounces = 1 per the samples
MAX_BULK = 100
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100


@cache
def sample_bytes(name: str) -> bytes:
    """A sample file's exact bytes."""
    return (SAMPLES / name).read_bytes()


def sample(name: str) -> Any:
    """A parsed sample (a fresh copy each time)."""
    return json.loads(sample_bytes(name))


# --- errors -----------------------------------------------------------------------------------------


class ApiError(Exception):
    """An answer other than 2xx: its status and JSON body (None: an empty body)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body!r}")
        self.status = status
        self.body = body

    @property
    def messages(self) -> list[str]:
        """What went wrong, as a bulk result's ``errorMessage`` puts it."""
        if isinstance(self.body, dict) and isinstance(self.body.get("ModelState"), dict):
            return [m for ms in self.body["ModelState"].values() for m in ms]
        if isinstance(self.body, dict):
            return [str(self.body.get("ExceptionMessage") or self.body.get("Message") or "")]
        return [str(self.body)]


def invalid(model_state: Mapping[str, list[str]]) -> ApiError:
    """ASP.NET Web API's 400 with its ModelState (field -> messages)."""
    return ApiError(400, {"Message": "The request is invalid.", "ModelState": dict(model_state)})


def exception(message: str, status: int = 500, kind: str = "System.Exception") -> ApiError:
    """ASP.NET Web API's unhandled exception (ShipStation's answer e.g. to an unknown orderId in a body)."""
    return ApiError(
        status,
        {
            "Message": "An error has occurred.",
            "ExceptionMessage": message,
            "ExceptionType": kind,
            "StackTrace": None,
        },
    )


def not_found(url: str) -> ApiError:
    """ASP.NET Web API's 404."""
    return ApiError(404, {"Message": f"No HTTP resource was found that matches the request URI '{url}'."})


def order_not_found(order_id: Any) -> ApiError:
    return ApiError(404, {"Message": f"Order not found: {order_id}."})


# --- dates ---------------------------------------------------------------------------------------------

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FRACTION = re.compile(r"\.(\d+)")


def pacific(moment: datetime.datetime) -> datetime.datetime:
    """An aware moment as ShipStation's naive Pacific local time."""
    return moment.astimezone(PACIFIC).replace(tzinfo=None)


def stamp(moment: datetime.datetime) -> str:
    """An order's or shipment's date: ``2026-03-15T05:58:44.4230000`` (Pacific, no offset)."""
    return pacific(moment).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def item_stamp(moment: datetime.datetime) -> str:
    """An order item's date: ``2026-03-14T07:22:15.39`` (SQL datetime, trailing zeros trimmed)."""
    local = pacific(moment)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{local.microsecond // 10000:02d}".rstrip("0")
    return f"{text}.{fraction}" if fraction else text


def day(moment: datetime.datetime) -> str:
    """A ship date: ``YYYY-MM-DD`` in Pacific time."""
    return pacific(moment).date().isoformat()


def parse_local(value: str) -> datetime.datetime:
    """A date ShipStation was given (a body's orderDate, a query's modifyDateStart) as an aware UTC
    moment: naive values are Pacific local time, values with an offset are taken as they are.
    Accepts ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS`` and ISO 8601 with up to seven fractional digits."""
    text = value.strip().replace(" ", "T", 1)
    if _DATE_ONLY.match(text):
        text += "T00:00:00"
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=PACIFIC)
    return parsed.astimezone(datetime.UTC)


def parse_day(value: str) -> datetime.date:
    """A ``YYYY-MM-DD`` (or a longer date, its day taken) as a date."""
    return datetime.date.fromisoformat(value.strip()[:10])


# --- fixed parts of documents ---------------------------------------------------------------------------

ADDRESS_KEYS = tuple(sample("createorder_request.json")["shipTo"])
ORDER_KEYS = tuple(sample("createorder_response.json"))
ITEM_KEYS = tuple(sample("createorder_response.json")["items"][0])
ADVANCED_KEYS = tuple(sample("createorder_response.json")["advancedOptions"])
SHIPMENT_KEYS = tuple(sample("list_shipments_response.json")["shipments"][0])
SHIPMENT_ITEM_KEYS = tuple(sample("list_shipments_response.json")["shipments"][0]["shipmentItems"][0])


def weight(value: Any) -> dict[str, Any] | None:
    """A weight as ShipStation answers it: ``{"value", "units", "WeightUnits"}`` (None stays None)."""
    if not isinstance(value, Mapping):
        return None
    units = str(value.get("units") or "ounces")
    return {"value": value.get("value") or 0.0, "units": units, "WeightUnits": WEIGHT_UNITS.get(units, 1)}


def address(value: Any, *, verified: bool) -> dict[str, Any]:
    """An address with every key (missing ones null) and ``addressVerified``."""
    given = value if isinstance(value, Mapping) else {}
    result: dict[str, Any] = {key: given.get(key) for key in ADDRESS_KEYS}
    result["addressVerified"] = (
        "Address validated successfully" if verified and given.get("street1") else None
    )
    return result


def label_address(value: Mapping[str, Any]) -> dict[str, Any]:
    """The ship-to address as printed on a label: upper case, the street lines merged."""
    street = " ".join(str(value.get(k) or "") for k in ("street1", "street2")).strip().upper()
    result = {key: value.get(key) for key in ADDRESS_KEYS}
    result |= {
        "street1": street,
        "street2": "",
        "city": str(value.get("city") or "").upper(),
        "residential": None,
        "addressVerified": None,
    }
    return result


def store_view(store_id: int, name: str, created: datetime.datetime) -> dict[str, Any]:
    """One store of ``GET /stores``."""
    when = stamp(created)
    return {
        "storeId": store_id,
        "storeName": name,
        "marketplaceId": 0,
        "marketplaceName": "ShipStation",
        "accountName": None,
        "email": None,
        "integrationUrl": None,
        "active": True,
        "companyName": "",
        "phone": "",
        "publicEmail": "",
        "website": "",
        "refreshDate": when,
        "lastRefreshAttempt": when,
        "createDate": when,
        "modifyDate": when,
        "autoRefresh": False,
        "statusMappings": None,
    }
