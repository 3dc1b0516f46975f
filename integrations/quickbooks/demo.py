"""Demo data: the demo company's books in QuickBooks Online (a local fake QuickBooks), connected today:
every invoice, payment, credit note, refund, bill and supplier payment made from now on goes there.

Registered with ``erp.demo`` (order 36, after sales: the taxes its history charged are the ones to
map), run by ``manage.py seed_demo``; ``integrations.apps`` imports every connector package's demo.
The history before the connection is not sent: the demo's months of documents at once would take
minutes at QuickBooks' 500 requests a minute, and ``make run`` has no scheduler to send the rest.

* The fake is integrations.quickbooks.fake (one company per process, the samples' "Trailhead
  Outfitters"), served at /integrations/fake-quickbooks/ with the fakes on
  (``integrations.demo_fakes``); the hub's client reaches it in-process.
* The connection "Demo QuickBooks": the company (``realm_id``), the fake's static access token and
  the app's verifier token (the webhooks' signature key); its account roles mapped to the company's
  chart of accounts, its payment methods and the taxes in use to QuickBooks' own.
* "Record a payment in QuickBooks" and "Void an invoice in QuickBooks" on the connection's page
  (``demo_card`` / ``demo_act``): the accountant pays the oldest open invoice the hub pushed, and the
  fake's signed webhook reaches the app's endpoint in this process (our invoice is paid here); or
  voids one, which the next reconciliation ("Reconcile now") shows as a drift linking both sides.
* Idempotent: the connection and mappings are looked up by natural key; only what is missing is
  made.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from erp import demo
from integrations import demo_fakes, hooks
from integrations.models import Connection, ExternalRef

DEMO_NAME = "Demo QuickBooks"
KEY = "quickbooks"
PAY, VOID = "record-payment", "void-invoice"
# account role -> the fake company's account (its seeded chart: fake_data.ACCOUNTS)
ACCOUNTS = {
    "income": "79",
    "cogs": "80",
    "inventory": "81",
    "receivables": "84",
    "payables": "33",
    "bank": "35",
    "credit_card": "42",
    "discount": "85",
}
METHODS = {"Shopify Payments": "5", "card": "3", "bank transfer": "2"}  # ours -> the company's method
TAXABLE, NOT_TAXED = "TAX", "NON"  # QuickBooks' own codes: the invoice carries our tax amount


def api_url() -> str:
    """The demo connection's base URL: the served fake's ``/v3``."""
    return f"{demo_fakes.fake_url(KEY)}/v3"


def install_fakes() -> None:
    from integrations.quickbooks.fake import shared_fake

    demo_fakes.mount(KEY, shared_fake())


def install_fakes_for_serving() -> None:
    """Mount the fake for a served app (the URL conf calls this once); tests mount their own."""
    if demo_fakes.fakes_enabled():
        install_fakes()


def is_demo(connection: Connection) -> bool:
    base = str((connection.settings or {}).get("base_url") or "").rstrip("/")
    return connection.connector == KEY and base == api_url()


# --- the seeders -------------------------------------------------------------------------------------


def _connection() -> Connection:
    from integrations.connections import connection_create
    from integrations.quickbooks.fake import ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, REALM_ID, VERIFIER_TOKEN

    connection = Connection.objects.filter(name=DEMO_NAME).first()
    if connection is not None:
        return connection
    return connection_create(
        connector=KEY,
        name=DEMO_NAME,
        settings={"realm_id": REALM_ID, "base_url": api_url()},
        secrets={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "verifier_token": VERIFIER_TOKEN,
            "access_token": ACCESS_TOKEN,
        },
    )


def _map(connection: Connection, kind: str, values: dict[str, str]) -> int:
    """Map each of ours to the company's value where it is not mapped yet; how many were."""
    from integrations.mappings import mapping_set
    from integrations.models import ValueMapping

    done = set(
        ValueMapping.objects.filter(connection=connection, kind=kind).values_list("our_value", flat=True)
    )
    missing = {ours: theirs for ours, theirs in values.items() if ours not in done}
    for ours, theirs in missing.items():
        mapping_set(connection=connection, kind=kind, our_value=ours, tool_value=theirs)
    return len(missing)


@transaction.atomic
def seed_quickbooks() -> list[str]:
    from integrations import mappings, registry

    try:
        registry.get(KEY)
    except registry.UnknownConnector:
        return ["integrations: no QuickBooks connector installed, no demo books"]
    if not demo_fakes.fakes_enabled():
        return ["integrations: the fakes are off: no demo QuickBooks"]
    install_fakes()
    connection = _connection()
    _map(connection, "account", ACCOUNTS)
    _map(connection, "payment_method", METHODS)
    taxes = [value for value, _ in mappings.our_choices(mappings.kind_of(connection, "tax_code"))]
    _map(connection, "tax_code", {t: NOT_TAXED if t == mappings.NO_TAX else TAXABLE for t in taxes})
    return [
        f"integrations: connection '{connection.name}' (id {connection.pk}) to the fake QuickBooks at "
        f"{api_url()}/; the books get every invoice, payment, refund and bill from now on"
    ]


demo.register(36, "integrations-quickbooks", seed_quickbooks)


# --- the connection page's demo card -----------------------------------------------------------------


def _open_invoices(connection: Connection) -> list[dict[str, Any]]:
    """The invoices the hub pushed that are still open in QuickBooks, oldest first."""
    from integrations.quickbooks.fake import shared_fake

    pushed = set(
        ExternalRef.objects.filter(connection=connection, object_type="invoice").values_list(
            "external_id", flat=True
        )
    )
    fake = shared_fake()
    rows = [i for i in fake.objects("Invoice") if i["Id"] in pushed and float(i.get("Balance") or 0) > 0]
    return sorted(rows, key=lambda i: (i["TxnDate"], int(i["Id"])))


def demo_card(connection: Connection) -> dict[str, Any] | None:
    """The "Demo QuickBooks" card (None: not the demo connection, or the fakes are off)."""
    if not demo_fakes.fakes_enabled() or not is_demo(connection):
        return None
    open_now = len(_open_invoices(connection))
    return {
        "title": "Demo QuickBooks",
        "text": (
            "This connection talks to a fake QuickBooks Online served by this app, the books of the "
            "demo company: every invoice, payment, credit note, refund, bill and supplier payment made "
            "here is there too. Play the accountant: record a customer's payment in QuickBooks (its "
            "signed webhook reaches this app and the invoice is paid here), or void an invoice there "
            "by mistake and press Reconcile now: the drift links both sides. "
            f"Open invoices in QuickBooks now: {open_now}."
        ),
        "actions": [
            {
                "name": PAY,
                "label": "Record a payment in QuickBooks",
                "title": "The accountant records the oldest open invoice's payment in QuickBooks",
            },
            {
                "name": VOID,
                "label": "Void an invoice in QuickBooks",
                "title": "The accountant voids the newest open invoice in QuickBooks; reconcile to see it",
            },
        ],
    }


def _deliver(connection: Connection, host: str) -> list[int]:
    """The fake's webhooks of the accountant's change, to the app's endpoint in this process."""
    from integrations.quickbooks.fake import shared_fake

    fake = shared_fake()
    fake.set_webhook_endpoint("https://erp.invalid/integrations/hooks/app/quickbooks/", entities={"Payment"})
    return hooks.deliver_in_process(connection, fake, host)


def _pay(connection: Connection, host: str) -> tuple[str, str]:
    from integrations.quickbooks.fake import shared_fake
    from sales.models import Invoice

    waiting = _open_invoices(connection)
    if not waiting:
        return "info", "No invoice the hub pushed is open in QuickBooks: every one is paid."
    there = waiting[0]
    fake = shared_fake()
    _deliver(connection, host)  # anything queued before (our own pushes' events) goes first
    fake.record_payment_in_qbo(there["Id"], PaymentMethodRef={"value": METHODS["bank transfer"]})
    answers = _deliver(connection, host)
    ref = ExternalRef.objects.filter(
        connection=connection, object_type="invoice", external_id=there["Id"]
    ).first()
    invoice = Invoice.objects.filter(pk=ref.object_id).first() if ref else None
    said = (
        f"The accountant recorded {there['Balance']:.2f} against invoice {there.get('DocNumber')} "
        "in QuickBooks."
    )
    if not answers or any(not 200 <= a < 300 for a in answers):
        return "warning", f"{said} Its webhook was answered {answers or 'not at all'}."
    if invoice is None:
        return "warning", f"{said} No invoice here is linked to it."
    return (
        "success",
        f"{said} Its signed webhook reached this app: the payment is recorded against {invoice.number} "
        "here (the Inbound events tab shows it).",
    )


def _void(connection: Connection) -> tuple[str, str]:
    from integrations.quickbooks.fake import shared_fake

    waiting = _open_invoices(connection)
    if not waiting:
        return "info", "No invoice the hub pushed is open in QuickBooks: nothing to void."
    there = waiting[-1]
    shared_fake().void_invoice_in_qbo(there["Id"])
    return (
        "success",
        f"The accountant voided invoice {there.get('DocNumber')} in QuickBooks; ours stands. Press "
        '"Reconcile now": the drift names both sides, for a person to decide.',
    )


def demo_act(connection: Connection, name: str, host: str) -> tuple[str, str]:
    """Run a demo action of the card: (message level, message)."""
    if name == PAY:
        return _pay(connection, host)
    if name == VOID:
        return _void(connection)
    raise ValueError(f"No demo action {name!r} on QuickBooks")
