"""What the conformance kit needs from a connector: a harness, found next to the connector.

For a connector class defined in ``<package>.connector`` the kit imports
``<package>.conformance`` and uses its ``Harness`` class, one fresh instance (a
fresh fake tool) per test. Shipped connectors keep theirs in their own package
(``integrations/shopify/conformance.py``); test-only connectors next to theirs
(``tests/integrations/conformance/minimal/conformance.py``). So adding a connector
adds a harness and touches nothing else: not the kit, not another connector.

``Harness`` below is the protocol of the channel part; ``ShippingHarness`` and
``AccountingHarness`` those of the shipping and accounting parts (duck-typed: harnesses need not
import them). A connector's harness offers what the parts of its capabilities use.
"""

from __future__ import annotations

import datetime
import importlib
from typing import Any, ClassVar, Protocol

import httpx

from integrations.contract import Connector


class Harness(Protocol):
    connector: ClassVar[type[Connector]]
    base_url: ClassVar[str]  # every request to a URL starting with this goes to transport()
    sku: ClassVar[str]  # a SKU the tool sells; the kit stocks it in the hub and maps its variant
    unknown_sku: ClassVar[str]  # another SKU the tool sells, which the hub will not know
    tokens_expire: ClassVar[bool]  # False: "expired token refreshed once" is skipped with the reason
    no_refresh_reason: ClassVar[str]

    # wiring
    def transport(self) -> httpx.BaseTransport: ...
    def settings(self) -> dict[str, Any]: ...
    def secrets(self) -> dict[str, Any]: ...
    def variant(self, sku: str) -> tuple[str, dict[str, Any]]: ...  # (variant external id, ExternalRef.extra)

    # orders, in the tool's own JSON, and its signed webhooks
    def new_order(self, *, sku: str, quantity: int, updated_at: datetime.datetime) -> Any: ...
    def changed(self, order: Any, *, note: str, updated_at: datetime.datetime) -> Any: ...
    def order_webhook(self, order: Any, *, created: bool) -> tuple[dict[str, str], bytes]: ...
    def wrongly_signed(self, order: Any) -> tuple[dict[str, str], bytes]: ...
    # validly signed, but for another account of the tool (None: its webhooks name no account)
    def other_accounts_webhook(self, order: Any) -> tuple[dict[str, str], bytes] | None: ...

    # the tool's state, and the failures it can be made to answer with
    def available(self, sku: str) -> int | None: ...
    def set_available(self, sku: str, quantity: int) -> None: ...  # drift, behind the hub's back
    def push_requests(self) -> int: ...  # inventory pushes the tool has received (answered or not)
    def throttle_next(self, *, retry_after: float) -> None: ...  # the next request: 429 + Retry-After
    def fail_next(self, count: int, *, status: int = 503) -> None: ...  # the next `count` requests
    def expire_token(self) -> None: ...  # the access token the hub holds stops working
    def refreshes(self) -> int: ...  # token refreshes the tool has granted


class PollingHarness(Harness, Protocol):
    """A channel without order webhooks (the channel part's polling variant, test_channel_polling.py):
    everything ``Harness`` offers but the webhooks, and what a poll needs."""

    page_size: ClassVar[int]  # orders a page of the connector's pull holds

    # new_order's ``updated_at`` is when the order was placed in the tool (a few minutes ago)
    def cancel_in_tool(self, order: Any, *, at: datetime.datetime) -> None: ...
    def reference(self, order: Any) -> str: ...  # the order's external reference here (its number)
    def order_list_requests(self) -> int: ...  # requests for a page of the order list (answered or not)


class ShippingHarness(Protocol):
    """A shipping tool's or 3PL's harness (the kit's shipping part: ORDERS_OUT and SHIPMENTS_IN)."""

    connector: ClassVar[type[Connector]]
    base_url: ClassVar[str]

    def transport(self) -> httpx.BaseTransport: ...
    def settings(self) -> dict[str, Any]: ...
    def secrets(self) -> dict[str, Any]: ...
    # the tool's order for our order number: {"status": "open" | "held" | "cancelled" | "shipped",
    # "lines": {sku: quantity}, "city": ...}; None when the tool does not have it
    def order(self, reference: str) -> dict[str, Any] | None: ...
    def order_count(self) -> int: ...
    def creates(self, reference: str) -> int: ...  # create requests for the order (replays too)
    def lose_next_answer(self) -> None: ...  # the tool does the next request; its answer is lost
    # ship the whole order in the tool: the webhook it sends (headers, body, the URL's query)
    def ship(self, reference: str, *, tracking: str) -> tuple[dict[str, str], bytes, dict[str, str]]: ...
    def forged(self, reference: str) -> tuple[dict[str, str], bytes, dict[str, str]]: ...


class AccountingHarness(Protocol):
    """An accounting tool's harness (the kit's accounting part: CUSTOMERS_OUT and INVOICES_OUT)."""

    connector: ClassVar[type[Connector]]
    base_url: ClassVar[str]

    def transport(self) -> httpx.BaseTransport: ...
    def settings(self) -> dict[str, Any]: ...
    def secrets(self) -> dict[str, Any]: ...
    # the tool's records of a kind ("customer", "item", "invoice", "payment"), oldest first:
    # {"id", "name", "email", "customer", "total", "document"}
    def records(self, kind: str) -> list[dict[str, Any]]: ...
    def creates(self, kind: str) -> int: ...
    def lose_next_answer(self) -> None: ...
    def edit_in_tool(self, kind: str, record_id: str) -> None: ...  # the hub's version goes stale
    def existing_customer(self, name: str) -> str: ...  # a customer the tool has already: its id
    # reconciliation (Connector.read_back): a record changed (name, email, total) or deleted in the tool
    def change_in_tool(self, kind: str, record_id: str, **values: str) -> None: ...
    def delete_in_tool(self, kind: str, record_id: str) -> None: ...
    # PAYMENTS_IN: a payment recorded in the tool against an invoice the hub pushed: its webhook
    def payment_webhook(self, invoice_id: str, amount: str) -> tuple[dict[str, str], bytes]: ...
    def forged(self, invoice_id: str, amount: str) -> tuple[dict[str, str], bytes]: ...
    # a connector that maps our taxes to the tool's tax codes (a "tax_code" mapping kind): the
    # tool's codes {"id", "name", "rate" (percent)}, and the code each line of its invoice names
    def tax_codes(self) -> list[dict[str, str]]: ...
    def line_tax_codes(self, record_id: str) -> list[str]: ...


def harness_class(connector: type[Connector]) -> type[Harness]:
    package = connector.__module__.rpartition(".")[0]
    module_name = f"{package}.conformance"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise LookupError(
            f"Connector {connector.key!r} has no conformance harness: add {module_name}.Harness "
            "(see tests/integrations/conformance/harness.py)."
        ) from None
    harness: type[Harness] = module.Harness
    if harness.connector is not connector:
        raise LookupError(f"{module_name}.Harness is for {harness.connector.key!r}, not {connector.key!r}.")
    return harness


class ThreePLHarness(ShippingHarness, Protocol):
    """A 3PL's harness (the kit's 3PL part: ORDERS_OUT, SHIPMENTS_IN and INVENTORY_IN). A 3PL ships
    from its own warehouse and owns the on-hand there; it runs the shipping part too, so it offers
    everything ``ShippingHarness`` does (its ``ship`` may also take ``sent_at``)."""

    # ShippingHarness.order(), with the tool's id of the order as "id" (str)
    def order(self, reference: str) -> dict[str, Any] | None: ...
    def requests(self) -> int: ...  # every request the tool has received
    def on_hand(self, sku: str) -> int | None: ...  # the tool's count on its shelves (None: no level)
    def set_on_hand(self, sku: str, on_hand: int) -> None: ...  # a count no webhook tells of
    def ship(
        self, reference: str, *, tracking: str, sent_at: datetime.datetime | None = None
    ) -> tuple[dict[str, str], bytes, dict[str, str]]: ...
    # the tool counts `on_hand` of `sku`: the signed delivery it sends (headers, body, the URL's query),
    # counted at `counted_at` (default now) and sent at `sent_at` (default now: older is a replay)
    def count(
        self,
        sku: str,
        on_hand: int,
        *,
        counted_at: datetime.datetime | None = None,
        sent_at: datetime.datetime | None = None,
    ) -> tuple[dict[str, str], bytes, dict[str, str]]: ...
    def forged_count(self, sku: str, on_hand: int) -> tuple[dict[str, str], bytes, dict[str, str]]: ...


class CrmHarness(Protocol):
    """A CRM's harness (the kit's CRM part: CUSTOMERS_IN and CUSTOMERS_OUT; DEALS_OUT where the
    connector takes deals). The tool sends every account's events to one address (app webhooks)."""

    connector: ClassVar[type[Connector]]
    base_url: ClassVar[str]
    other_account: ClassVar[str]  # an account of the tool no connection is for

    def transport(self) -> httpx.BaseTransport: ...
    def settings(self) -> dict[str, Any]: ...
    def secrets(self) -> dict[str, Any]: ...
    def deliver_to(self, url: str) -> None: ...  # the app's webhook address, as the tool calls it
    # the tool's contacts, oldest first: {"id", "name", "email", "phone", "reference" (our code)}
    def contacts(self) -> list[dict[str, str]]: ...
    def batches(self) -> list[int]: ...  # how many contacts each batch request carried
    def lose_next_answer(self) -> None: ...  # the tool does the next request; its answer is lost
    # a customer's values the tool refuses a contact with, and (part of) what it says about them
    def refused_customer(self) -> tuple[dict[str, str], str]: ...
    # what the tool sends, signed: a contact edited there (name, email, phone), one event per value
    def edit_contact(self, contact_id: str, **values: str) -> tuple[dict[str, str], bytes]: ...
    def writes_reported(self) -> tuple[dict[str, str], bytes]: ...  # our own pushes, told back
    def other_accounts_edit(self, contact_id: str, **values: str) -> tuple[dict[str, str], bytes]: ...
    # the same delivery re-signed: six minutes ago (a replay), or with a secret not the app's
    def stale(self, headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]: ...
    def forged(self, headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]: ...
    # DEALS_OUT: the deal of our order number: {"id", "contact", "amount", "stages": [our words,
    # one per write]}; None when the tool has none
    def deal(self, reference: str) -> dict[str, Any] | None: ...
