"""What the hub sends Amazon: merchant-fulfilled stock (Listings Items PATCH, or a JSON_LISTINGS_FEED
for many SKUs at once) and shipment confirmations (Orders v0).

* A few SKUs (up to the connection's ``feed_threshold``): compare, then set. Amazon counts its
  sales down itself and shows their orders minutes later, so the listing's quantity is read first
  (getListingsItem): when it is not what the hub last set, Amazon sold since (``CountMoved``: the
  hub imports the recent orders of every channel selling the stock, then pushes against Amazon's
  count). Then one ``PATCH
  /listings/2021-08-01/items/{sellerId}/{sku}`` each, replacing ``fulfillment_availability`` with
  ``[{"fulfillment_channel_code": "DEFAULT", "quantity": n}]`` in the listing's own product type
  (the variant's ``product_type``, from the listings import; read with getListingsItem when the
  link was made by an order). Amazon answers 200 with ``ACCEPTED`` or ``INVALID`` and its issues:
  an invalid one is a visible failed delivery with Amazon's words. A PATCH is idempotent (a
  replace): a retry sets the same quantity.
* More: one feed (a bulk set, as after an import or a count: not compared first). The document
  (header with the seller id, one PATCH message per SKU) is uploaded to the pre-signed URL
  ``createFeedDocument`` gives, with the document's content type and without our credentials (the
  URL is its own authorisation; S3 refuses a second one); the feed is created and every item's
  push answers "job <feed id>" (``PushResult.job_id``). The hub then polls ``job_status``: the
  feed's processing status; once DONE, the processing report (gzip when Amazon says so) gives each
  refused message's issues by SKU (``JobStatus.by_external_id``), and every SKU it does not name
  went through; CANCELLED or FATAL fails the whole job with the report's words.
* Shipments: ``POST /orders/v0/orders/{orderId}/shipmentConfirmation`` with the package (the
  digits of our shipment number as ``packageReferenceId``: Amazon takes positive numbers only;
  carrier code, tracking number, ship date, the order items shipped). 204 is done. A repeat of
  the same package (a retry whose answer was lost) is that package again, not a second one. A
  confirmation of units Amazon shows shipped already (the merchant confirmed them in Seller
  Central) answers 400: the order's items are read, and
  when the units are shipped there the push is done, not failed. The confirmation is linked to
  our shipment as ``<order>/<shipment number>`` (``PushResult.external_id``), an id of its own:
  the order's next read shows Amazon's running count of the units shipped (``mapping.mfn_shipment``,
  a cumulative record), of which the hub records only what is beyond what is shipped here, so
  what we confirmed is never taken for a shipment made by hand in Seller Central. Linking it under
  that read's id instead would save the read a no-op but could hide a unit shipped by hand since
  the last read, which the same count holds.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from integrations.amazon import mapping
from integrations.contract import HttpClient, JobStatus, PushContext, PushResult
from integrations.errors import CountMoved, PermanentError, TransientError
from integrations.records import FulfilmentOut, InventoryOut

LISTINGS = "listings/2021-08-01/items"
FEEDS = "feeds/2021-06-30"
FEED_TYPE = "JSON_LISTINGS_FEED"
CONTENT_TYPE = "application/json; charset=UTF-8"
FEED_POLL_SECONDS = 60.0  # getFeed allows 2/s, but a feed takes minutes: ask every minute
AVAILABILITY = "/attributes/fulfillment_availability"

# Amazon's carrier codes (the confirmShipment CarrierCode list), by what people write.
CARRIERS: Mapping[str, str] = {
    "usps": "USPS",
    "ups": "UPS",
    "fedex": "FedEx",
    "dhl": "DHL",
    "dhl express": "DHL",
    "ontrac": "OnTrac",
    "lasership": "LaserShip",
    "amazon shipping": "Amazon Shipping",
    "canada post": "Canada Post",
    "royal mail": "Royal Mail",
    "dpd": "DPD",
    "hermes": "Hermes",
    "gls": "GLS",
    "deutsche post": "Deutsche Post",
}


def body_of(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise TransientError("Amazon answered with a body that is not JSON") from exc


def errors_of(body: str) -> str:
    """What Amazon's ``{"errors": [{"code", "message", "details"}]}`` says."""
    try:
        parsed = json.loads(body or "")
    except ValueError:
        return body[:300]
    errors = parsed.get("errors") if isinstance(parsed, Mapping) else None
    if not errors:
        return body[:300]
    return "; ".join(
        " ".join(
            p for p in (str(e.get("code", "")), str(e.get("message", "")), str(e.get("details") or "")) if p
        )
        for e in errors
        if isinstance(e, Mapping)
    )


def issues_of(issues: Any) -> str:
    return "; ".join(
        f"{i.get('code', '')} {i.get('message', '')}".strip() for i in issues or () if isinstance(i, Mapping)
    )


def availability(quantity: int) -> list[dict[str, Any]]:
    return [
        {
            "op": "replace",
            "path": AVAILABILITY,
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
        }
    ]


class Listings:
    """The seller's listings in the connection's first marketplace."""

    def __init__(
        self, http: HttpClient, url: Callable[[str], str], seller_id: str, marketplace_id: str
    ) -> None:
        self.http = http
        self.url = url
        self.seller_id = seller_id
        self.marketplace_id = marketplace_id

    def path(self, sku: str) -> str:
        return f"{LISTINGS}/{self.seller_id}/{httpx.URL('/' + sku).raw_path.decode().lstrip('/')}"

    def get(self, sku: str, included: str = "summaries") -> dict[str, Any]:
        response = self.http.request(
            "GET",
            self.url(self.path(sku)),
            params={"marketplaceIds": self.marketplace_id, "includedData": included},
        )
        return dict(body_of(response) or {})

    def quantity(self, sku: str) -> int | None:
        """The merchant-fulfilled quantity Amazon shows now (None: no such offer)."""
        try:
            found = self.get(sku, "fulfillmentAvailability")
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise
        levels = [
            int(a.get("quantity") or 0)
            for a in found.get("fulfillmentAvailability") or ()
            if a.get("fulfillmentChannelCode") == "DEFAULT"
        ]
        return levels[0] if levels else None

    def product_type(self, item: InventoryOut) -> str:
        known = str(item.extra.get("product_type") or "")
        if known:
            return known
        from integrations.amazon.mapping import product_type

        found = product_type(self.get(item.sku), self.marketplace_id)
        if not found:
            raise PermanentError(f"Amazon names no product type for {item.sku}: is it listed?", status=None)
        return found


class StockPusher:
    def __init__(self, listings: Listings, threshold: int) -> None:
        self.listings = listings
        self.http = listings.http
        self.url = listings.url
        self.threshold = threshold

    def push(self, items: Sequence[InventoryOut]) -> list[PushResult | Exception]:
        if len(items) > self.threshold:
            return self.feed(items)
        results: list[PushResult | Exception] = []
        for item in items:
            try:
                results.append(self.patch(item))
            except (PermanentError, CountMoved) as exc:
                results.append(exc)
        return results

    def patch(self, item: InventoryOut) -> PushResult:
        sku = item.external_id or item.sku
        if item.previous is not None:
            # Compare, then set: Amazon counts its sales down itself, and sells for minutes before
            # its orders reach the hub; overwriting a count that moved would sell those units twice.
            there = self.listings.quantity(sku)
            if there is not None and there != item.previous:
                raise CountMoved(
                    f"Amazon shows {there} of {sku} where the hub last set {item.previous}: it sold "
                    "(or someone changed it) since; the recent orders come first.",
                    current=there,
                )
        payload = {"productType": self.listings.product_type(item), "patches": availability(item.available)}
        try:
            response = self.http.request(
                "PATCH",
                self.url(self.listings.path(sku)),
                params={"marketplaceIds": self.listings.marketplace_id, "includedData": "issues"},
                json=payload,
            )
        except PermanentError as exc:
            raise PermanentError(
                f"Amazon refused the stock of {sku}: {errors_of(exc.body)}", status=exc.status, body=exc.body
            ) from exc
        answer = body_of(response) or {}
        if answer.get("status") == "INVALID":
            raise PermanentError(
                f"Amazon refused the stock of {sku} ({item.available}): {issues_of(answer.get('issues'))}",
                status=response.status_code,
                body=response.text,
            )
        return PushResult(
            external_id=sku,
            detail=f"{sku}: {item.available} available on Amazon "
            f"(submission {answer.get('submissionId', '')})",
        )

    # --- the feed ------------------------------------------------------------------------------

    def document(self, items: Sequence[InventoryOut]) -> tuple[bytes, list[PushResult | Exception]]:
        """The JSON_LISTINGS_FEED document of the items that have a product type, and what became
        of the others (an error each)."""
        results: list[PushResult | Exception] = []
        messages: list[dict[str, Any]] = []
        for item in items:
            try:
                product_type = self.listings.product_type(item)
            except PermanentError as exc:
                results.append(exc)
                continue
            results.append(PushResult())
            messages.append(
                {
                    "messageId": len(messages) + 1,
                    "sku": item.external_id or item.sku,
                    "operationType": "PATCH",
                    "productType": product_type,
                    "patches": availability(item.available),
                }
            )
        header = {"sellerId": self.listings.seller_id, "version": "2.0", "issueLocale": "en_US"}
        return json.dumps({"header": header, "messages": messages}).encode(), results

    def feed(self, items: Sequence[InventoryOut]) -> list[PushResult | Exception]:
        content, results = self.document(items)
        if not any(isinstance(r, PushResult) for r in results):
            return results
        created = body_of(
            self.http.request("POST", self.url(f"{FEEDS}/documents"), json={"contentType": CONTENT_TYPE})
        )
        document_id, upload = str(created["feedDocumentId"]), str(created["url"])
        # The pre-signed URL is its own authorisation: no credentials of ours go with it.
        self.http.request(
            "PUT", upload, content=content, headers={"Content-Type": CONTENT_TYPE}, credentials=False
        )
        feed = body_of(
            self.http.request(
                "POST",
                self.url(f"{FEEDS}/feeds"),
                json={
                    "feedType": FEED_TYPE,
                    "marketplaceIds": [self.listings.marketplace_id],
                    "inputFeedDocumentId": document_id,
                },
            )
        )
        feed_id = str(feed["feedId"])
        return [
            PushResult(
                external_id=item.external_id or item.sku,
                job_id=f"feed:{feed_id}",
                detail=f"{item.sku}: {item.available} in feed {feed_id}",
            )
            if isinstance(result, PushResult)
            else result
            for item, result in zip(items, results, strict=True)
        ]

    def status(self, feed_id: str) -> JobStatus:
        feed = body_of(self.http.request("GET", self.url(f"{FEEDS}/feeds/{feed_id}"))) or {}
        state = str(feed.get("processingStatus") or "")
        if state in ("IN_QUEUE", "IN_PROGRESS"):
            return JobStatus(done=False, wait_seconds=FEED_POLL_SECONDS)
        report = self.report(str(feed.get("resultFeedDocumentId") or ""))
        if state != "DONE":
            said = issues_of((report or {}).get("issues")) or "no processing report"
            return JobStatus(done=True, error=f"Amazon's feed {feed_id} ended {state}: {said}")
        refused: dict[str, PushResult | Exception] = {}
        for issue in (report or {}).get("issues") or ():
            if str(issue.get("severity", "ERROR")).upper() != "ERROR" or not issue.get("sku"):
                continue
            sku = str(issue["sku"])
            earlier = refused.get(sku)
            message = f"{issue.get('code', '')} {issue.get('message', '')}".strip()
            if isinstance(earlier, PermanentError):
                message = f"{earlier.args[0].split(': ', 1)[1]}; {message}"
            refused[sku] = PermanentError(
                f"Amazon refused the stock of {sku} in feed {feed_id}: {message}", status=400
            )
        return JobStatus(done=True, by_external_id=refused)

    def report(self, document_id: str) -> dict[str, Any] | None:
        if not document_id:
            return None
        meta = body_of(self.http.request("GET", self.url(f"{FEEDS}/documents/{document_id}"))) or {}
        response = self.http.request("GET", str(meta["url"]), credentials=False)
        content = response.content
        if str(meta.get("compressionAlgorithm") or "").upper() == "GZIP":
            try:
                content = gzip.decompress(content)
            except OSError as exc:
                raise TransientError(f"Amazon's processing report {document_id} is not gzip") from exc
        try:
            return dict(json.loads(content))
        except (ValueError, TypeError) as exc:
            raise TransientError(f"Amazon's processing report {document_id} is not JSON") from exc


def package_reference(shipment_number: str) -> str:
    """confirmShipment's ``packageReferenceId``: "only positive numeric values are supported" (a
    string of digits; "SH-00011" is refused with 400 InvalidInput), unique within the order, and
    the same for every try of one shipment (Amazon takes a repeat as that package again). The
    digits of our shipment number, which is unique; a number without digits gets a stable one."""
    digits = re.sub(r"\D", "", shipment_number).lstrip("0")
    if digits:
        return digits
    return str(int(hashlib.sha256(shipment_number.encode()).hexdigest()[:12], 16) + 1)


class ShipmentPusher:
    def __init__(self, http: HttpClient, url: Callable[[str], str], marketplace_id: str) -> None:
        self.http = http
        self.url = url
        self.marketplace_id = marketplace_id

    def push(self, item: FulfilmentOut, context: PushContext, now: datetime.datetime) -> PushResult:
        order_id = item.order_external_id
        lines = [ln for ln in item.lines if ln.quantity > 0]
        if not lines:
            return PushResult(detail=f"Shipment {item.shipment_number}: nothing to confirm")
        carrier = item.carrier.strip()
        code = CARRIERS.get(carrier.lower(), "Other")
        package: dict[str, Any] = {
            "packageReferenceId": package_reference(item.shipment_number),
            "carrierCode": code,
            "trackingNumber": item.tracking_number or item.shipment_number,
            "shipDate": now.astimezone(datetime.UTC)
            .replace(microsecond=0)
            .isoformat()
            .replace("+00:00", "Z"),
            "orderItems": [{"orderItemId": ln.external_line_id, "quantity": ln.quantity} for ln in lines],
        }
        if code == "Other":
            package["carrierName"] = carrier or "Other"
        payload = {"marketplaceId": self.marketplace_id, "packageDetail": package}
        done = PushResult(
            external_id=f"{order_id}/{item.shipment_number}",
            detail=f"Shipment {item.shipment_number} confirmed to Amazon ({code} {item.tracking_number})",
        )
        try:
            self.http.request(
                "POST", self.url(f"orders/v0/orders/{order_id}/shipmentConfirmation"), json=payload
            )
        except PermanentError as exc:
            there = self.items(order_id) if exc.status == 400 else []
            shipped = mapping.shipped_units(there)
            if there and all(shipped.get(ln.external_line_id, 0) >= ln.quantity for ln in lines):
                return PushResult(
                    external_id=done.external_id,
                    detail=f"Shipment {item.shipment_number}: already confirmed on Amazon",
                )
            raise PermanentError(
                f"Amazon refused the shipment confirmation of {item.shipment_number} for order {order_id}: "
                f"{errors_of(exc.body)}",
                status=exc.status,
                body=exc.body,
            ) from exc
        return done

    def items(self, order_id: str) -> list[Mapping[str, Any]]:
        """The order's items as Amazon shows them now (getOrderItems, every page)."""
        items: list[Mapping[str, Any]] = []
        token: str | None = None
        while True:
            params = {"NextToken": token} if token else None
            body = body_of(
                self.http.request("GET", self.url(f"orders/v0/orders/{order_id}/orderItems"), params=params)
            )
            payload = (body or {}).get("payload") or {}
            items.extend(payload.get("OrderItems") or ())
            token = payload.get("NextToken")
            if not token:
                return items
