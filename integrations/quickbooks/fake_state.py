"""The fake QuickBooks' companies and what changes them: creates, updates, voids, deletes, CDC,
and the accountant's doings "in QuickBooks" (test controls).

* Create: a new ``Id`` (a string; transactions share one sequence), ``SyncToken`` "0",
  ``MetaData.CreateTime``/``LastUpdatedTime`` now; the object as ``fake_company`` /
  ``fake_txns`` prepare it. Webhook ``Create``.
* Update (a POST with ``Id``): ``SyncToken`` required (2020) and current (5010 otherwise); a full
  update replaces the object (what is not sent is gone), ``"sparse": true`` changes only the
  fields sent (``Line`` as a whole). ``SyncToken`` + 1, ``LastUpdatedTime`` now. Webhook
  ``Update`` (``Delete`` when a name-list object is made inactive: names are never deleted).
* Delete (``?operation=delete``, ``{"Id", "SyncToken"}``): transactions only (a name answers
  fault 500 "Operation Delete is not supported"); answered ``{"<Entity>": {"domain": "QBO",
  "status": "Deleted", "Id"}}``; CDC then shows the tombstone. Webhook ``Delete``.
* Void (``?operation=void``): Invoice, Payment, BillPayment (a Purchase is deleted, never
  voided). The transaction stays with zero amounts and ``PrivateNote`` "Voided"; a voided payment
  unapplies from its invoices. An invoice with payments applied, or a check on A/R a payment
  links, can be neither voided nor deleted (6000) [inferred]. Webhook ``Void``.
* Payments move balances: an invoice a payment is applied to (or unapplied from) gets its new
  ``Balance`` and ``LinkedTxn``, a new ``SyncToken`` and an ``Update`` webhook, as in QuickBooks
  (so a connector holding the old SyncToken meets 5010). Customer and vendor ``Balance`` follow.
* CDC (``cdc(realm, entities, changed_since)``): every object of the entities changed at or after
  ``changed_since`` (deleted ones as tombstones, inactive names as themselves with ``Active``
  false), at most 1000; older than 30 days: fault.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterable
from typing import Any

from integrations.quickbooks import fake_query
from integrations.quickbooks.fake_company import (
    META_KEYS,
    NAME_LISTS,
    PATHS,
    READ_ONLY,
    TRANSACTIONS,
    Company,
    prepare_name,
    strip_meta,
)
from integrations.quickbooks.fake_data import (
    CDC_LOOKBACK,
    CDC_MAX_OBJECTS,
    COMPANY_NAME,
    QBOFault,
    bad_request,
    business,
    not_found,
    qbo_time,
    required,
    stale,
    unsupported,
)
from integrations.quickbooks.fake_ledger import prepare_txn
from integrations.quickbooks.fake_txns import applied, refresh_balances
from integrations.quickbooks.fake_webhooks import QuickBooksWebhooks

VOIDABLE = ("Invoice", "Payment", "BillPayment")


class QuickBooksState(QuickBooksWebhooks):
    """The companies and their rules; ``FakeQuickBooks`` adds HTTP, auth and limits."""

    realm_id: str
    environment: str

    def reset_state(self, *, seed: bool = True) -> None:
        with self._lock:
            self.reset_webhooks()
            self.companies: dict[str, Company] = {}
            self.add_company(self.realm_id, COMPANY_NAME, environment=self.environment, seed=seed)

    def add_company(
        self,
        realm: str,
        name: str = "Sandbox Company_US_2",
        *,
        environment: str = "production",
        seed: bool = True,
    ) -> Company:
        """Another QuickBooks company (realm) the app can be connected to."""
        with self._lock:
            company = Company(realm, name, environment, self.clock(), seed=seed)
            self.companies[realm] = company
            return company

    def company(self, realm: str | None = None) -> Company:
        with self._lock:
            company = self.companies.get(realm or self.realm_id)
            if company is None:
                raise KeyError(f"No company {realm} in the fake QuickBooks")
            return company

    def company_name(self, realm: str) -> str:
        company = self.companies.get(realm)
        return company.name if company else realm

    # --- reads ------------------------------------------------------------------------------------

    def get(self, entity: str, object_id: Any, realm: str | None = None) -> dict[str, Any] | None:
        """An object as ``GET /{entity}/{id}`` answers it (a copy), or None."""
        with self._lock:
            obj = self.company(realm).find(entity, object_id)
            return copy.deepcopy(obj) if obj is not None else None

    def objects(self, entity: str, realm: str | None = None) -> list[dict[str, Any]]:
        """Every live object of an entity (copies), in ``Id`` order."""
        with self._lock:
            return copy.deepcopy(self.company(realm).all(entity))

    def read(self, realm: str, entity: str, object_id: str) -> dict[str, Any]:
        with self._lock:
            obj = self.company(realm).find(entity, object_id)
            if obj is None:
                raise not_found()
            return copy.deepcopy(obj)

    def query(self, realm: str, text: str) -> dict[str, Any]:
        """``QueryResponse`` of a query (faults 4000/4001 for a bad one)."""
        with self._lock:
            parsed = fake_query.parse(text)
            return fake_query.run(parsed, self.company(realm).all(parsed.entity))

    def cdc(
        self, realm: str, entities: Iterable[str], changed_since: datetime.datetime
    ) -> list[dict[str, Any]]:
        """``CDCResponse[0].QueryResponse``: one entry per entity with changes, ``[{}]`` when none."""
        with self._lock:
            company = self.company(realm)
            now = self.clock()
            if changed_since < now - CDC_LOOKBACK:
                raise QBOFault(
                    "4001",
                    "Invalid query",
                    "QueryValidationError: changedSince must be within the last 30 days",
                    element="changedSince",
                )
            answer: list[dict[str, Any]] = []
            room = CDC_MAX_OBJECTS
            for entity in entities:
                changed = [
                    (at, obj)
                    for (kind, object_id), at in company.changed_at.items()
                    if kind == entity and at >= changed_since
                    for obj in [company.find(entity, object_id) or company.tombstones[entity].get(object_id)]
                    if obj is not None
                ]
                changed.sort(key=lambda pair: pair[0])
                rows = [copy.deepcopy(obj) for _, obj in changed[:room]]
                room -= len(rows)
                if rows:
                    answer.append(
                        {entity: rows, "startPosition": 1, "maxResults": len(rows), "totalCount": len(rows)}
                    )
            return answer or [{}]

    # --- writes -------------------------------------------------------------------------------------

    def write(self, realm: str, entity: str, body: Any, operation: str | None = None) -> dict[str, Any]:
        """A ``POST /{entity}``: create, update, delete or void (``operation``); the stored object."""
        with self._lock:
            if not isinstance(body, dict):
                raise bad_request("The request body must be a JSON object of the entity")
            if entity in READ_ONLY:
                raise unsupported(
                    f"Operation Create/Update is not supported for {entity} through this endpoint."
                )
            company = self.company(realm)
            if operation == "delete":
                return self._delete(company, entity, body)
            if operation == "void":
                return self._void(company, entity, body)
            if operation not in (None, "", "update", "create"):
                raise unsupported(f"Operation {operation} is not supported.")
            if body.get("Id") not in (None, ""):
                return self._update(company, entity, body)
            return self._create(company, entity, body)

    def _prepare(
        self, company: Company, entity: str, body: dict[str, Any], own_id: str | None
    ) -> dict[str, Any]:
        fields = {k: copy.deepcopy(v) for k, v in body.items() if k not in META_KEYS}
        if entity in NAME_LISTS:
            return prepare_name(company, entity, fields, own_id)
        return prepare_txn(company, entity, fields, own_id, self.clock())

    def _assemble(
        self, fields: dict[str, Any], object_id: str, sync_token: str, created: str, order: Iterable[str]
    ) -> dict[str, Any]:
        """The object in QuickBooks' key order: the fields sent, the meta keys, what it added."""
        now = qbo_time(self.clock())
        obj = {k: fields[k] for k in order if k in fields and k not in META_KEYS}
        obj.update(
            {
                "domain": "QBO",
                "sparse": False,
                "Id": object_id,
                "SyncToken": sync_token,
                "MetaData": {"CreateTime": created, "LastUpdatedTime": now},
            }
        )
        obj.update({k: v for k, v in fields.items() if k not in obj})
        return obj

    def _create(self, company: Company, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        fields = self._prepare(company, entity, body, None)
        obj = self._assemble(fields, company.next_id(entity), "0", qbo_time(self.clock()), body.keys())
        company.put(entity, obj, self.clock())
        self.notify(company.realm, entity, obj["Id"], "Create")
        self._settle(company, entity)
        return copy.deepcopy(company.find(entity, obj["Id"]) or obj)

    def _current(self, company: Company, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        existing = company.find(entity, body.get("Id"))
        if existing is None:
            raise not_found()
        if body.get("SyncToken") in (None, ""):
            raise required("SyncToken")
        if str(body["SyncToken"]) != existing["SyncToken"]:
            raise stale(entity)
        return existing

    def _update(self, company: Company, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        existing = self._current(company, entity, body)
        if (entity, existing["Id"]) in company.voided:
            raise business(f"This {entity} is voided and can not be changed")
        if body.get("sparse") is True:
            merged = strip_meta(existing)
            merged.update({k: v for k, v in body.items() if k not in META_KEYS})
            order: Iterable[str] = list(merged)
        else:
            merged = {k: v for k, v in body.items() if k not in META_KEYS}
            order = list(body)
        fields = self._prepare(company, entity, merged, existing["Id"])
        obj = self._assemble(
            fields,
            existing["Id"],
            str(int(existing["SyncToken"]) + 1),
            existing["MetaData"]["CreateTime"],
            order,
        )
        company.put(entity, obj, self.clock())
        inactive = entity in NAME_LISTS and existing.get("Active") is not False and obj.get("Active") is False
        self.notify(company.realm, entity, obj["Id"], "Delete" if inactive else "Update")
        self._settle(company, entity)
        return copy.deepcopy(company.find(entity, obj["Id"]) or obj)

    def _has_payments(self, company: Company, entity: str, object_id: str) -> bool:
        txn = company.find(entity, object_id) or {}
        if entity == "Purchase":  # a check on A/R a payment links [inferred]
            return applied(company, "Expense", object_id) > 0
        return entity in ("Invoice", "Bill") and bool(txn.get("LinkedTxn"))

    def _delete(self, company: Company, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        if entity not in TRANSACTIONS:
            raise unsupported("Operation Delete is not supported.")
        existing = self._current(company, entity, body)
        if self._has_payments(company, entity, existing["Id"]):
            raise business(f"This {entity} has payments applied to it; delete or void them first")
        company.bury(entity, existing["Id"], self.clock())
        company.voided.discard((entity, existing["Id"]))
        self.notify(company.realm, entity, existing["Id"], "Delete")
        self._settle(company, entity)
        return {"domain": "QBO", "status": "Deleted", "Id": existing["Id"]}

    def _void(self, company: Company, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        if entity not in VOIDABLE:
            raise unsupported(f"Operation Void is not supported for {entity}.")
        existing = self._current(company, entity, body)
        return self._void_object(company, entity, existing)

    def _void_object(self, company: Company, entity: str, existing: dict[str, Any]) -> dict[str, Any]:
        if self._has_payments(company, entity, existing["Id"]):
            raise business(f"This {entity} has payments applied to it; delete or void them first")
        obj = copy.deepcopy(existing)
        obj["SyncToken"] = str(int(obj["SyncToken"]) + 1)
        obj["MetaData"]["LastUpdatedTime"] = qbo_time(self.clock())
        obj["PrivateNote"] = "Voided"
        for key in ("TotalAmt", "HomeTotalAmt", "Balance", "HomeBalance", "UnappliedAmt"):
            if key in obj:
                obj[key] = 0
        if entity == "Invoice":
            for line in obj.get("Line") or []:
                line["Amount"] = 0
            obj["TxnTaxDetail"] = {"TotalTax": 0}
        else:
            obj["Line"] = []
        company.put(entity, obj, self.clock())
        company.voided.add((entity, obj["Id"]))
        self.notify(company.realm, entity, obj["Id"], "Void")
        self._settle(company, entity)
        return copy.deepcopy(company.find(entity, obj["Id"]) or obj)

    def _settle(self, company: Company, entity: str) -> None:
        """After a change: the balances payments move, and the transactions whose balance moved."""
        if entity in NAME_LISTS:
            return
        for kind, object_id in refresh_balances(company):
            txn = company.objects[kind][object_id]
            txn["SyncToken"] = str(int(txn["SyncToken"]) + 1)
            txn["MetaData"]["LastUpdatedTime"] = qbo_time(self.clock())
            company.changed_at[(kind, object_id)] = self.clock()
            self.notify(company.realm, kind, object_id, "Update")

    # --- the accountant, in QuickBooks (test controls) ---------------------------------------------

    def record_payment_in_qbo(
        self, invoice_id: str, amount: float | None = None, *, realm: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Someone records a payment of ``amount`` (the open balance by default) against an invoice."""
        with self._lock:
            company = self.company(realm)
            invoice = company.find("Invoice", invoice_id)
            if invoice is None:
                raise KeyError(f"No invoice {invoice_id}")
            paid = float(invoice["Balance"] if amount is None else amount)
            body = {
                "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
                "TotalAmt": paid,
                "Line": [{"Amount": paid, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
                **fields,
            }
            return self._create(company, "Payment", body)

    def void_invoice_in_qbo(self, invoice_id: str, *, realm: str | None = None) -> dict[str, Any]:
        """Someone voids an invoice in QuickBooks."""
        return self.void_in_qbo("Invoice", invoice_id, realm=realm)

    def void_in_qbo(self, entity: str, object_id: str, *, realm: str | None = None) -> dict[str, Any]:
        with self._lock:
            company = self.company(realm)
            existing = company.find(entity, object_id)
            if existing is None:
                raise KeyError(f"No {entity} {object_id}")
            return self._void_object(company, entity, existing)

    def edit_in_qbo(
        self, entity: str, object_id: str, *, realm: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Someone edits an object in QuickBooks (a sparse update with the current SyncToken)."""
        with self._lock:
            company = self.company(realm)
            existing = company.find(entity, object_id)
            if existing is None:
                raise KeyError(f"No {entity} {object_id}")
            body = {"Id": existing["Id"], "SyncToken": existing["SyncToken"], "sparse": True, **fields}
            return self._update(company, entity, body)

    def edit_customer_in_qbo(
        self, customer_id: str, *, realm: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        return self.edit_in_qbo("Customer", customer_id, realm=realm, **fields)

    def edit_invoice_in_qbo(
        self, invoice_id: str, *, realm: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        return self.edit_in_qbo("Invoice", invoice_id, realm=realm, **fields)

    def create_in_qbo(self, entity: str, body: dict[str, Any], *, realm: str | None = None) -> dict[str, Any]:
        """Someone creates an object in QuickBooks (a customer or item the connector will meet)."""
        with self._lock:
            return self._create(self.company(realm), entity, copy.deepcopy(body))

    def delete_in_qbo(self, entity: str, object_id: str, *, realm: str | None = None) -> dict[str, Any]:
        with self._lock:
            company = self.company(realm)
            existing = company.find(entity, object_id)
            if existing is None:
                raise KeyError(f"No {entity} {object_id}")
            return self._delete(company, entity, {"Id": object_id, "SyncToken": existing["SyncToken"]})

    def merge_in_qbo(self, entity: str, from_id: str, into_id: str, *, realm: str | None = None) -> None:
        """Someone merges one customer, vendor or item into another: ``from_id`` is gone (a tombstone
        in CDC) and references to it now name ``into_id``; webhook ``Merge`` with ``deletedId``."""
        with self._lock:
            company = self.company(realm)
            if company.find(entity, from_id) is None or company.find(entity, into_id) is None:
                raise KeyError(f"No {entity} {from_id} or {into_id}")
            company.bury(entity, from_id, self.clock())
            ref_key = {"Customer": "CustomerRef", "Vendor": "VendorRef"}.get(entity)
            for kind in TRANSACTIONS:
                for txn in company.objects[kind].values():
                    if ref_key and txn.get(ref_key, {}).get("value") == from_id:
                        txn[ref_key]["value"] = into_id
                    for line in txn.get("Line") or []:
                        for detail in line.values():
                            if (
                                isinstance(detail, dict)
                                and detail.get("ItemRef", {}).get("value") == from_id
                                and entity == "Item"
                            ):
                                detail["ItemRef"]["value"] = into_id
            company.changed_at[(entity, into_id)] = self.clock()
            self.notify(company.realm, entity, into_id, "Merge", deleted_id=from_id)
            refresh_balances(company)


def entity_of(path: str) -> str | None:
    """The entity of a path segment (``invoice`` -> ``Invoice``)."""
    return PATHS.get(path.lower())
