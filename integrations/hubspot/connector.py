"""HubSpot (CRM v3): one customer, whether sales sees it in the CRM or operations sees it here.

Wire format notes: ``samples/FORMAT.md``, beside the samples.

* ``https://api.hubapi.com``, ``Authorization: Bearer`` a private app's token or an OAuth sign-in's
  30-minute access token, renewed by the hub (``auth.py``, ``client.py``).
* Customers out, up to 100 a request (``push_batch``): contacts through ``batch/upsert`` keyed by
  our customer number (``erp_customer_code``), each input's ``objectWriteTraceId`` the delivery's
  idempotency key, so a retry after a lost answer updates the contact the first attempt made. A
  field the connection gives the tool (``field_owners``) is never sent; a field whose last writer
  wins is left out when HubSpot changed it after we did (one ``batch/read`` with
  ``propertiesWithHistory`` for the batch's known contacts). A company customer is also a company,
  upserted by the same number and associated with its contact when either is new or the company
  changed; the company, and the contact's company name, get every value HubSpot does not own (the
  hub never reads them back, so what they show is what it sent: ``outbound_crm.company_lags``).
  A 207's refused inputs are each that customer's result: invalid values and conflicts for good,
  with HubSpot's message; anything else is tried again.
* Deals out: ``batch/upsert`` keyed by our order number, the stage mapped by the connection's
  ``stages`` (an order stage with no mapping waits for a person), associated with the contact
  when HubSpot first has the deal.
* In: webhooks are the app's (every portal's arrays of events to one address, v3-signed); a
  contact's event is a trigger to read the contact (``client.py``). Polling searches contacts
  modified since the last poll: a safety net under the webhooks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from integrations import registry
from integrations.contract import Bucket, Capability, PushContext, PushResult
from integrations.errors import HubError, NeedsAPerson, PermanentError, TransientError
from integrations.hubspot import mapping
from integrations.hubspot.auth import TIMESTAMP_HEADER, HubSpotSecrets
from integrations.hubspot.client import (
    CUSTOMER,
    DEFAULT,
    SEARCH,
    SEARCH_PER_SECOND,
    TEN_SECONDS_MAX,
    HubSpotClient,
    HubSpotSettings,
)
from integrations.records import CustomerOut, DealOut, OutboundItem

HISTORY_BATCH = 50  # HubSpot reads property histories of 50 records a request at most
CONTACT_TO_COMPANY = ("contacts", "companies")
DEAL_TO_CONTACT = ("deals", "contacts")
DEAL_TO_COMPANY = ("deals", "companies")
SINGULAR = {mapping.CONTACTS: "contact", mapping.COMPANIES: "company", mapping.DEALS: "deal"}
Entry = tuple[int, Any, PushContext]  # (index in the batch, the item, its context)
Results = dict[int, PushResult | Exception]


@registry.register
class HubSpotConnector(HubSpotClient):
    key = "hubspot"
    name = "HubSpot"
    capabilities = frozenset({Capability.CUSTOMERS_IN, Capability.CUSTOMERS_OUT, Capability.DEALS_OUT})
    settings_schema = HubSpotSettings
    secrets_schema = HubSpotSecrets
    topics = (
        "sales.customer_created",
        "sales.customer_updated",
        # an order's life, as a deal
        "sales.order_confirmed",
        "sales.order_updated",
        "sales.shipment_shipped",
        "sales.invoice_issued",
        "sales.payment_received",
        "sales.order_cancelled",
        "sales.order_closed",
    )
    poll_object_types = (CUSTOMER,)
    app_webhooks = True
    webhook_headers = frozenset({TIMESTAMP_HEADER.lower()})
    personal_fields = frozenset(
        {"firstname", "lastname", "email", "phone", "address", "zip", "erp_tax_id", "propertyValue"}
    )
    batch_size = 100
    rate_limit_per_second = TEN_SECONDS_MAX / 10
    rate_limit_burst = TEN_SECONDS_MAX
    rate_buckets = {
        DEFAULT: Bucket(TEN_SECONDS_MAX / 10, TEN_SECONDS_MAX),
        SEARCH: Bucket(SEARCH_PER_SECOND, SEARCH_PER_SECOND),
    }

    # --- outbound ------------------------------------------------------------------------------

    def push(self, item: OutboundItem, context: PushContext) -> PushResult:
        [result] = self.push_batch([(item, context)])
        if isinstance(result, Exception):
            raise result
        return result

    def push_batch(self, items: Sequence[tuple[OutboundItem, PushContext]]) -> list[PushResult | Exception]:
        """Customers in one upsert (and their companies in another), deals in one more: a result per
        item. An error of one group's requests is each of its items' result; one that every item
        met (throttled, the credentials refused) is raised, as the contract asks."""
        results: Results = {}
        customers: list[Entry] = []
        deals: list[Entry] = []
        for index, (item, context) in enumerate(items):
            if isinstance(item, CustomerOut):
                customers.append((index, item, context))
            elif isinstance(item, DealOut):
                deals.append((index, item, context))
            else:
                results[index] = PermanentError(
                    f"HubSpot takes customers and deals, not {type(item).__name__}."
                )
        for entries, push in ((customers, self._push_customers), (deals, self._push_deals)):
            if entries:
                results |= _guarded(entries, push)
        outcome = [results[index] for index in range(len(items))]
        first = outcome[0]
        if isinstance(first, HubError) and all(r is first for r in outcome):
            raise first
        return outcome

    # customers

    def _push_customers(self, entries: list[Entry]) -> Results:
        latest = _latest(entries)
        there = self._stamps([item for item, _ in latest.values() if item.external_id and item.latest])
        leave_out = {
            code: set(item.withheld) | mapping.newer_there(item, there.get(item.external_id, {}))
            for code, (item, _) in latest.items()
        }
        inputs = {
            code: (mapping.contact_properties(item, leave_out[code]), ctx.idempotency_key)
            for code, (item, ctx) in latest.items()
        }
        linked = {code: item.external_id for code, (item, _) in latest.items() if item.external_id}
        fresh = {code: given for code, given in inputs.items() if code not in linked}
        updated = self._update_linked(linked, inputs)
        fresh |= {code: inputs[code] for code, result in updated.items() if result is None}
        contacts: dict[str, dict[str, Any] | Exception] = {
            code: result for code, result in updated.items() if result is not None
        }
        contacts |= self._upsert(mapping.CONTACTS, mapping.CUSTOMER_CODE, fresh)
        contacts |= self._adopt(contacts, fresh)
        companies = self._upsert(
            mapping.COMPANIES,
            mapping.CUSTOMER_CODE,
            {
                code: (mapping.company_properties(item, item.withheld), f"{ctx.idempotency_key}:company")
                for code, (item, ctx) in latest.items()
                if item.is_company
            },
        )
        outcome: dict[str, PushResult | Exception] = {}
        pairs: dict[str, tuple[str, str]] = {}
        for code, (item, _) in latest.items():
            contact = contacts[code]
            company = companies.get(code)
            if isinstance(contact, Exception):
                outcome[code] = contact
                continue
            if isinstance(company, Exception):
                outcome[code] = company
                continue
            outcome[code] = _customer_result(contact, company)
            if company is not None and (
                not item.external_id
                or contact.get("new")
                or company.get("new")
                or str(company["id"]) != item.company_external_id
            ):
                pairs[code] = (str(contact["id"]), str(company["id"]))
        for code, error in self._associate(CONTACT_TO_COMPANY, pairs).items():
            outcome[code] = error
        return {index: outcome[item.reference] for index, item, _ in entries}

    def _update_linked(
        self, linked: dict[str, str], inputs: dict[str, tuple[dict[str, str], str]]
    ) -> dict[str, dict[str, Any] | Exception | None]:
        """The contacts the hub is linked to already, updated by their id with our customer number
        among the values (one ``batch/update``): a contact linked when HubSpot told us of it (one
        someone made there, with the customer's email) does not carry our number yet, and an
        upsert by the number would make a second contact. None for a contact HubSpot no longer has
        (deleted there): it is made again by the number."""
        if not linked:
            return {}
        body = {
            "inputs": [
                {
                    "id": contact_id,
                    "objectWriteTraceId": inputs[code][1],
                    "properties": {**inputs[code][0], mapping.CUSTOMER_CODE: code},
                }
                for code, contact_id in linked.items()
            ]
        }
        answer = self._call("POST", f"/crm/v3/objects/{mapping.CONTACTS}/batch/update", json=body)
        traced, keyed, errors = mapping.by_trace(answer, mapping.CUSTOMER_CODE)
        found: dict[str, dict[str, Any] | Exception | None] = {}
        for code, contact_id in linked.items():
            trace = inputs[code][1]
            result = traced.get(trace) or keyed.get(code)
            error = errors.get(trace) or errors.get(contact_id)
            if result is not None:
                found[code] = {**result, "new": False}
            elif error is not None and error.get("category") == "OBJECT_NOT_FOUND":
                found[code] = None
            elif error is not None:
                found[code] = mapping.refusal(error, f"contact {contact_id} (customer {code})")
            else:
                found[code] = TransientError(f"HubSpot's answer names no result for contact {contact_id}.")
        return found

    def _adopt(
        self, contacts: dict[str, dict[str, Any] | Exception], inputs: dict[str, tuple[dict[str, str], str]]
    ) -> dict[str, dict[str, Any] | Exception]:
        """The customers HubSpot refused as a conflict ("Contact already exists. Existing ID: N": a
        contact someone made there with the customer's email, before the hub sent it): that contact
        becomes the customer's, updated by its id with our values and our customer number (one
        ``batch/update``), rather than a dead letter or a second contact."""
        existing = {
            code: found
            for code, result in contacts.items()
            if isinstance(result, PermanentError) and (found := mapping.existing_id(result.body))
        }
        if not existing:
            return {}
        body = {
            "inputs": [
                {
                    "id": existing[code],
                    "objectWriteTraceId": inputs[code][1],
                    "properties": {**inputs[code][0], mapping.CUSTOMER_CODE: code},
                }
                for code in existing
            ]
        }
        answer = self._call("POST", f"/crm/v3/objects/{mapping.CONTACTS}/batch/update", json=body)
        traced, keyed, errors = mapping.by_trace(answer, mapping.CUSTOMER_CODE)
        adopted: dict[str, dict[str, Any] | Exception] = {}
        for code, contact_id in existing.items():
            trace = inputs[code][1]
            result = traced.get(trace) or keyed.get(code)
            if result is not None:
                adopted[code] = {**result, "new": False, "adopted": contact_id}
            elif (error := errors.get(trace) or errors.get(contact_id)) is not None:
                adopted[code] = mapping.refusal(error, f"contact {contact_id} (customer {code})")
        return adopted

    def _stamps(self, items: list[CustomerOut]) -> dict[str, dict[str, Any]]:
        """When HubSpot last changed each last-writer-wins field of these contacts, by contact id
        (a merged id's survivor is found by our customer number)."""
        properties = sorted(
            {p for item in items for name in item.latest for p in mapping.STAMPED_BY.get(name, ())}
        )
        if not properties:
            return {}
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(items), HISTORY_BATCH):
            chunk = items[start : start + HISTORY_BATCH]
            body = {
                "properties": [mapping.CUSTOMER_CODE],
                "propertiesWithHistory": properties,
                "inputs": [{"id": item.external_id} for item in chunk],
            }
            try:
                answer = self._call("POST", "/crm/v3/objects/contacts/batch/read", json=body)
            except PermanentError as exc:
                if exc.status == 404:  # none of them is there any more: nothing is newer there
                    continue
                raise
            by_code = {item.reference: item.external_id for item in chunk}
            for row in answer.get("results") or ():
                stamps = mapping.stamps(row)
                found[str(row["id"])] = stamps
                code = str((row.get("properties") or {}).get(mapping.CUSTOMER_CODE) or "")
                if code in by_code:
                    found[by_code[code]] = stamps
        return found

    # deals

    def _push_deals(self, entries: list[Entry]) -> Results:
        outcome: dict[str, PushResult | Exception] = {}
        ready: dict[str, tuple[dict[str, str], str]] = {}
        latest = _latest(entries)
        for number, (item, ctx) in latest.items():
            stage = self.settings.stages.get(item.stage)
            if not stage:
                outcome[number] = NeedsAPerson(
                    f"No stage of HubSpot's {self.settings.pipeline!r} pipeline is set for "
                    f"{item.stage} orders (the connection's stages).",
                    value=item.stage,
                )
                continue
            properties = mapping.deal_properties(item, pipeline=self.settings.pipeline, stage=stage)
            ready[number] = (properties, ctx.idempotency_key)
        deals = self._upsert(mapping.DEALS, mapping.ORDER_NUMBER, ready)
        pairs: dict[str, tuple[str, str]] = {}
        companies: dict[str, tuple[str, str]] = {}
        for number, deal in deals.items():
            item = latest[number][0]
            if isinstance(deal, Exception):
                outcome[number] = deal
                continue
            how = "created" if deal.get("new") else "updated"
            stage = ready[number][0]["dealstage"]
            outcome[number] = PushResult(
                external_id=str(deal["id"]), detail=f"deal {deal['id']} {how} ({stage})"
            )
            if deal.get("new") or not item.external_id:  # a deal new to HubSpot, or to us
                if item.customer_external_id:
                    pairs[number] = (str(deal["id"]), item.customer_external_id)
                if item.company_external_id:
                    companies[number] = (str(deal["id"]), item.company_external_id)
        for kinds, made in ((DEAL_TO_CONTACT, pairs), (DEAL_TO_COMPANY, companies)):
            for number, error in self._associate(kinds, made).items():
                outcome[number] = error
        return {index: outcome[item.reference] for index, item, _ in entries}

    # requests

    def _upsert(
        self, object_type: str, id_property: str, inputs: dict[str, tuple[dict[str, str], str]]
    ) -> dict[str, dict[str, Any] | Exception]:
        """One ``batch/upsert``: per key (our number), the object HubSpot answered, or its refusal."""
        if not inputs:
            return {}
        body = {
            "inputs": [
                mapping.upsert_input(id_property, key, properties, trace)
                for key, (properties, trace) in inputs.items()
            ]
        }
        answer = self._call("POST", f"/crm/v3/objects/{object_type}/batch/upsert", json=body)
        traced, keyed, errors = mapping.by_trace(answer, id_property)
        singular = SINGULAR[object_type]
        found: dict[str, dict[str, Any] | Exception] = {}
        for key, (_, trace) in inputs.items():
            result = traced.get(trace) or keyed.get(key)
            if result is not None:
                found[key] = result
            elif (error := errors.get(trace) or errors.get(key)) is not None:
                found[key] = mapping.refusal(error, f"{singular} {key}")
            else:
                found[key] = TransientError(f"HubSpot's answer names no result for {singular} {key}.")
        return found

    def _associate(self, kinds: tuple[str, str], pairs: dict[str, tuple[str, str]]) -> dict[str, HubError]:
        """HubSpot's default association of each pair (v4, one request): the keys it refused."""
        if not pairs:
            return {}
        source, target = kinds
        body = {"inputs": [{"from": {"id": a}, "to": {"id": b}} for a, b in pairs.values()]}
        try:
            answer = self._call(
                "POST", f"/crm/v4/associations/{source}/{target}/batch/associate/default", json=body
            )
        except HubError as exc:
            return dict.fromkeys(pairs, exc)
        if not answer.get("errors"):
            return {}
        made = {
            (str((r.get("from") or {}).get("id")), str((r.get("to") or {}).get("id")))
            for r in answer.get("results") or ()
        }
        why = "; ".join(str(e.get("message") or "") for e in answer["errors"])
        return {
            key: TransientError(f"HubSpot did not associate {source} {a} with {target} {b}: {why}")
            for key, (a, b) in pairs.items()
            if (a, b) not in made
        }


def _latest(entries: list[Entry]) -> dict[str, tuple[Any, PushContext]]:
    """Per our number, the batch's last change of it: two changes of one record go once, as the
    later one (HubSpot refuses a batch naming one id twice)."""
    return {item.reference: (item, context) for _, item, context in entries}


def _customer_result(contact: dict[str, Any], company: dict[str, Any] | None) -> PushResult:
    how = "created" if contact.get("new") else "updated"
    if contact.get("adopted"):
        how = "already there with this email: linked and updated"
    detail = f"contact {contact['id']} {how}"
    if company is None:
        return PushResult(external_id=str(contact["id"]), detail=detail)
    made = "created" if company.get("new") else "updated"
    return PushResult(
        external_id=str(contact["id"]),
        detail=f"{detail}, company {company['id']} {made}",
        extra={"company_id": str(company["id"])},
    )


def _guarded(entries: list[Entry], push: Callable[[list[Entry]], Results]) -> Results:
    """A group's results, or the error of its requests as each of its items' result."""
    try:
        return push(entries)
    except HubError as exc:
        return {index: exc for index, _, _ in entries}
