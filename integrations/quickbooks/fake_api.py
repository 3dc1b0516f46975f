"""The fake QuickBooks' Accounting API endpoints under ``/v3/company/{realmId}/``.

* ``GET {entity}/{id}``: ``{"<Entity>": {...}, "time"}``; 610 for a missing (or deleted) one.
* ``POST {entity}`` (JSON): create, or update when the body has ``Id``; ``?operation=delete`` and
  ``?operation=void``. ``requestid=<id>`` makes a write idempotent: the same requestid again (in
  the realm) answers exactly the first answer (status and body, its ``time`` included) and does
  nothing, whatever the body; answers kept are the ones QuickBooks got to (2xx and faults).
* ``GET query?query=<urlencoded>`` or ``POST query`` with ``Content-Type: application/text``
  and the query as the body: ``{"QueryResponse": {...}, "time"}`` (``fake_query``).
* ``GET cdc?entities=Invoice,Payment&changedSince=<ISO>``: ``{"CDCResponse": [{"QueryResponse":
  [...]}], "time"}`` (``cdc_response.json``); 2020 without ``entities`` or ``changedSince``.
* ``GET companyinfo/{realmId}``: the company's name.

Every answer is JSON; ``time`` is the company's local time with milliseconds. Unknown entities
and paths: 400 with QuickBooks' "Unsupported Operation" fault [inferred]. ``minorversion`` is
read and below 75 answered as 75 (``minor_versions`` logs what callers sent).
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import unquote_plus

from integrations.fakes.base import Incoming
from integrations.quickbooks.fake_data import (
    MIN_MINOR_VERSION,
    QBOFault,
    envelope_time,
    parse_moment,
    required,
    unsupported,
)
from integrations.quickbooks.fake_state import QuickBooksState, entity_of


class QuickBooksApi(QuickBooksState):
    """Routes ``/v3/company/{realm}/...`` to the companies."""

    def reset_api(self) -> None:
        self.minor_versions: list[int | None] = []

    def minor_version(self, request: Incoming) -> int:
        """The minor version a request is answered in (75 when missing, unreadable or older)."""
        raw = request.params.get("minorversion") or ""
        try:
            asked: int | None = int(raw) if raw else None
        except ValueError:
            asked = None
        self.minor_versions.append(asked)
        return max(asked or MIN_MINOR_VERSION, MIN_MINOR_VERSION)

    def envelope(self, body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "time": envelope_time(self.clock())}

    def api(self, request: Incoming, realm: str, rest: str) -> tuple[int, dict[str, Any]]:
        """(status, body) of one API request to a realm the caller may use."""
        self.minor_version(request)
        requestid = request.params.get("requestid") if request.method == "POST" else None
        company = self.company(realm)
        if requestid:
            kept = company.requestids.get(requestid)
            if kept is not None:
                return kept[0], copy.deepcopy(kept[1])
        try:
            status, body = 200, self.envelope(self._route(request, realm, rest))
        except QBOFault as fault:
            status, body = fault.status, self.envelope(fault.body)
        if requestid and status < 500:
            company.requestids[requestid] = (status, copy.deepcopy(body))
        return status, body

    def _route(self, request: Incoming, realm: str, rest: str) -> dict[str, Any]:
        parts = [p for p in rest.split("/") if p]
        if not parts:
            raise unsupported("Unsupported Operation: no entity")
        head = parts[0].lower()
        if head == "query" and len(parts) == 1:
            return {"QueryResponse": self.query(realm, self._query_text(request))}
        if head == "cdc" and len(parts) == 1 and request.method == "GET":
            return {"CDCResponse": [{"QueryResponse": self._cdc(request, realm)}]}
        if head == "companyinfo" and request.method == "GET":
            company = self.company(realm)
            return {
                "CompanyInfo": {
                    "CompanyName": company.name,
                    "LegalName": company.name,
                    "Country": "US",
                    "domain": "QBO",
                    "sparse": False,
                    "Id": "1",
                    "SyncToken": "0",
                }
            }
        entity = entity_of(head)
        if entity is None:
            raise unsupported(f"Unsupported Operation: {parts[0]} is not an entity")
        if request.method == "GET" and len(parts) == 2:
            return {entity: self.read(realm, entity, parts[1])}
        if request.method == "POST" and len(parts) == 1:
            operation = (request.params.get("operation") or "").lower() or None
            return {entity: self.write(realm, entity, request.json(), operation)}
        raise unsupported(f"Unsupported Operation: {request.method} {rest}")

    def _query_text(self, request: Incoming) -> str:
        if request.method == "POST":
            text = request.body.decode(errors="replace")
        else:
            text = request.params.get("query", "")
        if not text.strip():
            raise required("query")
        return unquote_plus(text) if request.method == "POST" and "%20" in text else text

    def _cdc(self, request: Incoming, realm: str) -> list[dict[str, Any]]:
        names = [n.strip() for n in request.params.get("entities", "").split(",") if n.strip()]
        if not names:
            raise required("entities")
        since = request.params.get("changedSince", "").replace(" ", "+")  # an unencoded "+01:00"
        if not since:
            raise required("changedSince")
        entities = []
        for name in names:
            entity = entity_of(name)
            if entity is None:
                raise QBOFault(
                    "4001",
                    "Invalid query",
                    f"QueryValidationError: Invalid entity {name}",
                    element="entities",
                )
            entities.append(entity)
        try:
            moment = parse_moment(since)
        except ValueError:
            raise QBOFault(
                "4001", "Invalid query", f"QueryValidationError: invalid changedSince {since}"
            ) from None
        return self.cdc(realm, entities, moment)
