"""The fake Amazon's Feeds API 2021-06-30 and its S3 documents (``FeedsApi``).

The lifecycle as FORMAT.md describes it:

1. ``POST /feeds/2021-06-30/documents`` ``{"contentType"}`` -> 201 ``{"feedDocumentId", "url"}``,
   a pre-signed S3 URL (``X-Amz-Algorithm=AWS4-HMAC-SHA256`` ... ``X-Amz-Expires=300`` ...
   ``X-Amz-Signature``) under ``documents_url``, good for 5 minutes on the clock.
2. ``PUT`` the document there with the same Content-Type. S3 answers its XML errors: 400
   ``InvalidArgument`` when the request also carries an ``Authorization`` or ``x-amz-access-token``
   header (one auth mechanism only), 403 ``SignatureDoesNotMatch`` when the query was altered, the
   method is not the one signed or the Content-Type differs, 403 ``AccessDenied`` "Request has
   expired" after the 5 minutes.
3. ``POST /feeds/2021-06-30/feeds`` ``{"feedType": "JSON_LISTINGS_FEED", "marketplaceIds",
   "inputFeedDocumentId"}`` -> 202 ``{"feedId"}`` (11 digits); 400 for another feed type or a
   document never uploaded.
4. ``GET /feeds/2021-06-30/feeds/{feedId}``: ``IN_QUEUE`` for the first third of ``feed_seconds``,
   ``IN_PROGRESS`` (``processingStartTime``) until they are over, then ``DONE`` or ``FATAL``
   (``processingEndTime``, ``resultFeedDocumentId``). A feed is processed at the moment it is
   done: before any request or control that comes after that moment (``settle_feeds``), or at
   once by ``process_feeds()``. Each message is checked as a listings PATCH
   (``fake_listings.check_patches``); the refused ones are the processing report's issues. A
   document that is not JSON, or whose header is not this seller's version 2.0, is ``FATAL``;
   so is the feed after ``fatal_next_feed()``.
5. ``GET /feeds/2021-06-30/documents/{id}`` -> ``{"feedDocumentId", "url"}`` (a GET URL), plus
   ``"compressionAlgorithm": "GZIP"`` for a result document: the report is served gzipped.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import hmac
import itertools
import json
import threading
import uuid
from typing import Any
from urllib.parse import urlencode

from integrations.amazon.fake_data import (
    FEED_TYPES,
    MARKETPLACE_ID,
    SELLER_ID,
    invalid_input,
    iso_ms,
    not_found,
)
from integrations.amazon.fake_listings import check_patches
from integrations.fakes.base import Answer
from integrations.fakes.clock import Clock

EXPIRES = 300
ALGORITHM = "AWS4-HMAC-SHA256"
ACCESS_KEY = "AKIAFAKETORTUGA00001"
_SECRET = b"fake-tortuga-signing-secret"
XML = "application/xml"


def s3_error(status: int, code: str, message: str, extra: str = "") -> Answer:
    """An S3 XML error answer."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>{extra}"
        f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId>"
        f"<HostId>{uuid.uuid4().hex}</HostId></Error>"
    )
    return status, {"Content-Type": XML}, body.encode()


def _signature(method: str, doc_id: str, params: dict[str, str], content_type: str) -> str:
    parts = [method, doc_id] + [
        params.get(k, "")
        for k in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders")
    ]
    parts.append(content_type)
    return hmac.new(_SECRET, "\n".join(parts).encode(), hashlib.sha256).hexdigest()


class FeedsApi:
    """Feed documents and feeds; mixed into ``FakeAmazon``. Holds ``_lock``."""

    clock: Clock
    _lock: threading.RLock
    documents_url: str
    feed_seconds: float
    listings: dict[str, dict[str, Any]]
    refusals: dict[str, str]
    set_listing_quantity: Any

    def reset_feeds(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.feeds: dict[str, dict[str, Any]] = {}
        self.uploads = 0
        self._fatal_next = False
        self._feed_ids = itertools.count(50014020001)

    # --- documents ----------------------------------------------------------------------------

    def _new_document(self, content_type: str, kind: str) -> dict[str, Any]:
        tail = uuid.uuid4().hex[:8].upper()
        doc_id = f"amzn1.tortuga.4.na.{uuid.uuid4()}.T{tail}"
        document = {
            "id": doc_id,
            "contentType": content_type,
            "content": None,
            "kind": kind,
            "compression": "GZIP" if kind == "result" else None,
        }
        self.documents[doc_id] = document
        return document

    def presigned_url(self, doc_id: str, method: str) -> str:
        """A pre-signed S3 URL for ``method`` (PUT: the upload; GET: the download) of a document."""
        now = self.clock().astimezone(datetime.UTC)
        params = {
            "X-Amz-Algorithm": ALGORITHM,
            "X-Amz-Credential": f"{ACCESS_KEY}/{now:%Y%m%d}/us-east-1/s3/aws4_request",
            "X-Amz-Date": f"{now:%Y%m%dT%H%M%SZ}",
            "X-Amz-Expires": str(EXPIRES),
            "X-Amz-SignedHeaders": "content-type;host" if method == "PUT" else "host",
        }
        content_type = self.documents[doc_id]["contentType"] if method == "PUT" else ""
        params["X-Amz-Signature"] = _signature(method, doc_id, params, content_type)
        return f"{self.documents_url.rstrip('/')}/%2FNinetyDays/{doc_id}?{urlencode(params)}"

    def create_feed_document(self, body: Any) -> dict[str, Any]:
        """``createFeedDocument``: a new document and where to upload it."""
        content_type = body.get("contentType") if isinstance(body, dict) else None
        if not isinstance(content_type, str) or not content_type.strip():
            raise invalid_input("contentType is required.")
        document = self._new_document(content_type, "input")
        return {"feedDocumentId": document["id"], "url": self.presigned_url(document["id"], "PUT")}

    def get_feed_document(self, doc_id: str) -> dict[str, Any]:
        """``getFeedDocument``: where to download a document (a result: gzipped)."""
        document = self.documents.get(doc_id)
        if document is None:
            raise not_found(f"Feed document {doc_id} not found.")
        answer = {"feedDocumentId": doc_id, "url": self.presigned_url(doc_id, "GET")}
        if document["compression"]:
            answer["compressionAlgorithm"] = document["compression"]
        return answer

    def s3(
        self, method: str, doc_id: str, params: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Answer:
        """The S3 end of a pre-signed URL: the upload (PUT) or the download (GET)."""
        if "authorization" in headers or "x-amz-access-token" in headers:
            return s3_error(
                400,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature "
                "query string parameter or the Authorization header should be specified",
                "<ArgumentName>Authorization</ArgumentName>",
            )
        document = self.documents.get(doc_id)
        if document is None:
            return s3_error(404, "NoSuchKey", "The specified key does not exist.", f"<Key>{doc_id}</Key>")
        content_type = headers.get("content-type", "").strip() if method == "PUT" else ""
        expected = _signature(method, doc_id, params, content_type)
        if params.get("X-Amz-Algorithm") != ALGORITHM or not hmac.compare_digest(
            expected, params.get("X-Amz-Signature", "")
        ):
            return s3_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
            )
        signed = datetime.datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.UTC
        )
        now = self.clock().astimezone(datetime.UTC)
        if now > signed + datetime.timedelta(seconds=int(params.get("X-Amz-Expires") or EXPIRES)):
            return s3_error(
                403,
                "AccessDenied",
                "Request has expired",
                f"<X-Amz-Expires>{EXPIRES}</X-Amz-Expires><Expires>{signed:%Y-%m-%dT%H:%M:%SZ}</Expires>"
                f"<ServerTime>{now:%Y-%m-%dT%H:%M:%SZ}</ServerTime>",
            )
        if method == "PUT":
            document["content"] = body
            self.uploads += 1
            return 200, {"ETag": f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'}, b""
        if document["content"] is None:
            return s3_error(404, "NoSuchKey", "The specified key does not exist.", f"<Key>{doc_id}</Key>")
        kind = "application/octet-stream" if document["compression"] else document["contentType"]
        return 200, {"Content-Type": kind}, document["content"]

    # --- feeds --------------------------------------------------------------------------------

    def create_feed(self, body: Any) -> dict[str, Any]:
        """``createFeed``: a feed of an uploaded document, queued."""
        if not isinstance(body, dict):
            raise invalid_input("The request body must be a JSON object.")
        if body.get("feedType") not in FEED_TYPES:
            raise invalid_input(f"Invalid feedType: {body.get('feedType')!r}.")
        marketplaces = body.get("marketplaceIds")
        if not isinstance(marketplaces, list) or not marketplaces or set(marketplaces) != {MARKETPLACE_ID}:
            raise invalid_input(f"Invalid marketplaceIds: {marketplaces!r}.")
        document = self.documents.get(str(body.get("inputFeedDocumentId")))
        if document is None or document["kind"] != "input" or document["content"] is None:
            raise invalid_input(
                f"inputFeedDocumentId {body.get('inputFeedDocumentId')!r} is not an uploaded feed document."
            )
        now = self.clock()
        feed_id = str(next(self._feed_ids))
        self.feeds[feed_id] = {
            "feedId": feed_id,
            "feedType": body["feedType"],
            "marketplaceIds": list(marketplaces),
            "created": now,
            "start": now + datetime.timedelta(seconds=self.feed_seconds / 3),
            "end": now + datetime.timedelta(seconds=self.feed_seconds),
            "input": document["id"],
            "fatal": self._fatal_next,
            "status": None,  # DONE or FATAL once processed
            "result": None,
            "report": None,
        }
        self._fatal_next = False
        return {"feedId": feed_id}

    def get_feed(self, feed_id: str) -> dict[str, Any]:
        """``getFeed``: the feed and where it is in its processing."""
        feed = self.feeds.get(feed_id)
        if feed is None:
            raise not_found(f"Feed {feed_id} not found.")
        now = self.clock()
        answer: dict[str, Any] = {
            "feedId": feed_id,
            "feedType": feed["feedType"],
            "marketplaceIds": feed["marketplaceIds"],
            "createdTime": iso_ms(feed["created"]),
        }
        if feed["status"]:
            answer["processingStatus"] = feed["status"]
        else:
            answer["processingStatus"] = "IN_PROGRESS" if now >= feed["start"] else "IN_QUEUE"
        if answer["processingStatus"] != "IN_QUEUE":
            answer["processingStartTime"] = iso_ms(feed["start"])
        if feed["status"]:
            answer["processingEndTime"] = iso_ms(feed["end"])
            answer["resultFeedDocumentId"] = feed["result"]
        return answer

    def settle_feeds(self) -> None:
        """Process every feed whose time is up (in the order they were created)."""
        now = self.clock()
        for feed in self.feeds.values():
            if feed["status"] is None and now >= feed["end"]:
                self._process(feed)

    def process_feeds(self) -> int:
        """Amazon finishes every queued feed now; how many it processed."""
        with self._lock:
            now = self.clock()
            count = 0
            for feed in self.feeds.values():
                if feed["status"] is None:
                    feed["start"], feed["end"] = min(feed["start"], now), min(feed["end"], now)
                    self._process(feed)
                    count += 1
            return count

    def fatal_next_feed(self) -> None:
        """The next feed created fails as a whole (``FATAL``, a report holding the fatal issue)."""
        with self._lock:
            self._fatal_next = True

    def _process(self, feed: dict[str, Any]) -> None:
        content = self.documents[feed["input"]]["content"] or b""
        fatal: str | None = None
        messages: list[Any] = []
        if feed["fatal"]:
            fatal = "An internal error occurred while processing the feed. Please resubmit it."
        else:
            try:
                document = json.loads(content.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                document = None
                fatal = "The feed document is not valid JSON."
            if fatal is None:
                header = document.get("header") if isinstance(document, dict) else None
                if not isinstance(header, dict) or header.get("version") != "2.0":
                    fatal = "The feed header is missing or its version is not '2.0'."
                elif header.get("sellerId") != SELLER_ID:
                    fatal = (
                        f"The sellerId {header.get('sellerId')!r} in the header does not match the seller."
                    )
                elif not isinstance(document.get("messages"), list):
                    fatal = "The feed has no 'messages' list."
                else:
                    messages = document["messages"]
        report: dict[str, Any] = {
            "header": {"sellerId": SELLER_ID, "version": "2.0", "feedId": feed["feedId"]}
        }
        if fatal is not None:
            report["issues"] = [{"code": "4000000", "severity": "ERROR", "message": fatal}]
            report["summary"] = {
                "errors": 1,
                "warnings": 0,
                "messagesProcessed": 0,
                "messagesAccepted": 0,
                "messagesInvalid": 0,
            }
        else:
            report.update(self._apply_messages(feed["feedId"], messages))
        result = self._new_document("application/json; charset=UTF-8", "result")
        result["content"] = gzip.compress(json.dumps(report).encode(), mtime=0)
        feed.update({"status": "FATAL" if fatal else "DONE", "result": result["id"], "report": report})

    def _apply_messages(self, feed_id: str, messages: list[Any]) -> dict[str, Any]:
        issues: list[dict[str, Any]] = []
        invalid = 0
        for position, message in enumerate(messages, start=1):
            if not isinstance(message, dict):
                message = {}
            message_id = message.get("messageId", position)
            sku = str(message.get("sku", ""))
            found: list[dict[str, Any]] = []
            listing = self.listings.get(sku)
            quantity = None
            if listing is None:
                found = [{"code": "4000003", "message": f"The SKU '{sku}' does not exist for this seller."}]
            elif message.get("operationType") != "PATCH":
                operation = message.get("operationType")
                found = [
                    {"code": "4000004", "message": f"operationType {operation!r} is not supported here."}
                ]
            else:
                found, quantity = check_patches(
                    listing, message.get("productType"), message.get("patches"), self.refusals.get(sku)
                )
            if found:
                invalid += 1
                for problem in found:
                    issues.append(
                        {
                            "messageId": message_id,
                            "sku": sku,
                            "code": problem["code"],
                            "severity": "ERROR",
                            "message": problem["message"],
                        }
                    )
            elif quantity is not None:
                self.set_listing_quantity(sku, quantity, via=f"feed {feed_id}")
        return {
            "issues": issues,
            "summary": {
                "errors": len(issues),
                "warnings": 0,
                "messagesProcessed": len(messages),
                "messagesAccepted": len(messages) - invalid,
                "messagesInvalid": invalid,
            },
        }
