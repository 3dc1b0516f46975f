"""QuickBooks Online's JSON and ours: the bodies of the entities the connector writes, a payment
read back as a ``PaymentRecord``, the webhook bodies (legacy ``eventNotifications`` and the
CloudEvents array) as one change each, and the ``Fault`` bodies (the capitalised validation
envelope and the lowercase 401/403 one) as a sentence a person can act on.

No Django and no I/O: the connector resolves the mappings and the refs before calling these."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from integrations.records import (
    BillOut,
    BillPaymentOut,
    CustomerOut,
    InvoiceOut,
    ItemOut,
    PaymentApplication,
    PaymentOut,
    PaymentRecord,
    VendorOut,
)

CENT = Decimal("0.01")
SHIPPING_ITEM_ID = "SHIPPING_ITEM_ID"  # QuickBooks' own item of a shipping line
NON_TAXABLE = "NON"  # QuickBooks' code of a line that charges no tax
REQUESTID_MAX = 50  # QuickBooks keeps a requestid of at most 50 characters
# Our payment methods that are a card (a refund or a bill payment by card goes on the card's account)
CARD = re.compile(r"\b(card|visa|master ?card|amex|american express|discover)\b", re.IGNORECASE)
# CloudEvents' past tense -> the legacy operation
OPERATIONS = {
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "merged": "Merge",
    "voided": "Void",
    "emailed": "Emailed",
}


def fault(body: str) -> tuple[str, str]:
    """(code, what QuickBooks said) of a Fault body, either envelope; ("", "") when not one."""
    try:
        parsed = json.loads(body)
    except (ValueError, TypeError):
        return "", ""
    if not isinstance(parsed, dict):
        return "", ""
    envelope = parsed.get("Fault") or parsed.get("fault")
    if not isinstance(envelope, dict):
        return "", ""
    errors = envelope.get("Error") or envelope.get("error") or []
    if not errors or not isinstance(errors[0], dict):
        return "", str(envelope.get("type") or envelope.get("Type") or "")
    first = errors[0]
    code = str(first.get("code") or first.get("Code") or "")
    message = str(first.get("Message") or first.get("message") or "")
    detail = str(first.get("Detail") or first.get("detail") or "")
    text = detail if not message or message in detail else f"{message}: {detail}" if detail else message
    element = first.get("element") or first.get("Element")
    return code, f"{text} ({element})" if element else text


def money(value: Decimal) -> float:
    """An amount as QuickBooks writes it: a JSON number, to the cent."""
    return float(value.quantize(CENT, ROUND_HALF_UP))


def _ref(value: str) -> dict[str, str]:
    return {"value": value}


def requestid(key: str, suffix: str = "") -> str:
    """The ``requestid`` of one create of a push: the delivery's idempotency key and what the push
    makes (":check", ":apply"), at most 50 characters. A key too long for its suffix is replaced
    by its hash, so two deliveries never share one."""
    if len(key) + len(suffix) <= REQUESTID_MAX:
        return key + suffix
    return hashlib.sha256(key.encode()).hexdigest()[: REQUESTID_MAX - len(suffix)] + suffix


def paid_by_card(method: str) -> bool:
    """Whether our payment method is a card ("card", "Visa", "credit card"; not "bank transfer")."""
    return bool(CARD.search(method))


def customer_body(item: CustomerOut) -> dict[str, Any]:
    # DisplayName is unique in the company (a namesake's has our code added: ``distinct_name``);
    # the name to print on checks is the customer's own, and is what reconciliation compares.
    body: dict[str, Any] = {"DisplayName": item.name[:500], "PrintOnCheckName": item.name[:110]}
    if item.is_company:
        body["CompanyName"] = item.name[:100]
    if item.email:
        body["PrimaryEmailAddr"] = {"Address": item.email}
    if item.phone:
        body["PrimaryPhone"] = {"FreeFormNumber": item.phone}
    if item.currency:
        body["CurrencyRef"] = _ref(item.currency)
    if item.tax_id:
        body["ResaleNum"] = item.tax_id[:15]
    address = item.billing_address
    if address:
        body["BillAddr"] = {
            "Line1": address.get("line1", ""),
            "Line2": address.get("line2", ""),
            "City": address.get("city", ""),
            "CountrySubDivisionCode": address.get("region", ""),
            "PostalCode": address.get("postal_code", ""),
            "Country": address.get("country", ""),
        }
    body["Notes"] = f"ERP customer {item.reference}"
    return body


def distinct_name(item: CustomerOut) -> str:
    """A customer's display name with our code, for one whose name QuickBooks has for someone
    else ("Sam O'Neil (C-00042)"); at most QuickBooks' 500 characters."""
    suffix = f" ({item.reference})"
    return item.name[: 500 - len(suffix)] + suffix


def item_body(item: ItemOut, income_account: str) -> dict[str, Any]:
    """A NonInventory item (never an Inventory one: our ledger keeps the stock), named by its SKU."""
    return {
        "Name": item.sku[:100],
        "Sku": item.sku[:100],
        "Description": (item.description or item.name)[:4000],
        "Type": "NonInventory",
        "UnitPrice": money(item.price),
        "IncomeAccountRef": _ref(income_account),
    }


def vendor_body(item: VendorOut) -> dict[str, Any]:
    body: dict[str, Any] = {"DisplayName": item.name[:500], "CompanyName": item.name[:100]}
    if item.email:
        body["PrimaryEmailAddr"] = {"Address": item.email}
    if item.currency:
        body["CurrencyRef"] = _ref(item.currency)
    body["AcctNum"] = item.reference[:100]
    return body


def invoice_body(
    item: InvoiceOut,
    tax_code: Callable[[str], str],
    *,
    receivables: str | None = None,
    discount_account: str | None = None,
    terms: str | None = None,
    class_id: str | None = None,
    department: str | None = None,
) -> dict[str, Any]:
    """An Invoice (or a CreditMemo): a SalesItemLineDetail line each (a line of no item is
    QuickBooks' shipping line), the discount of the lines as one DiscountLineDetail line, our tax
    as the total tax, the due date (QuickBooks' terms apply when we have none) and an invoice's
    terms (``SalesTermRef``). Sales tracked by class put ``class_id`` on every line (``ClassRef``),
    by location put ``department`` on the transaction (``DepartmentRef``)."""
    lines: list[dict[str, Any]] = []
    discount = Decimal(0)
    for line in item.lines:
        gross = (line.quantity * line.unit_price).quantize(CENT, ROUND_HALF_UP)
        detail: dict[str, Any] = {
            "ItemRef": _ref(line.item_external_id or SHIPPING_ITEM_ID),
            "TaxCodeRef": _ref(tax_code(line.tax_name)),
        }
        amount = line.amount
        if gross >= line.amount:  # what the line was discounted by goes on the discount line
            discount += gross - line.amount
            amount = gross
            detail["Qty"] = float(line.quantity)
            detail["UnitPrice"] = float(line.unit_price)
        if class_id:
            detail["ClassRef"] = _ref(class_id)
        lines.append(
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": money(amount),
                "Description": line.description[:4000],
                "SalesItemLineDetail": detail,
            }
        )
    if discount:
        detail = {"PercentBased": False}
        if discount_account:
            detail["DiscountAccountRef"] = _ref(discount_account)
        if class_id:
            detail["ClassRef"] = _ref(class_id)
        lines.append(
            {"DetailType": "DiscountLineDetail", "Amount": money(discount), "DiscountLineDetail": detail}
        )
    body: dict[str, Any] = {
        "DocNumber": item.number[:21],
        "CustomerRef": _ref(item.customer_external_id),
        "TxnDate": item.issue_date.isoformat(),
        "Line": lines,
        "TxnTaxDetail": {"TotalTax": money(item.tax)},
        "PrivateNote": f"ERP {item.kind.replace('_', ' ')} {item.number}"
        + (f", order {item.order_reference}" if item.order_reference else ""),
    }
    if item.currency:
        body["CurrencyRef"] = _ref(item.currency)
    if item.due_date and item.kind == "invoice":
        body["DueDate"] = item.due_date.isoformat()
    if terms and item.kind == "invoice":
        body["SalesTermRef"] = _ref(terms)
    if department:
        body["DepartmentRef"] = _ref(department)
    if receivables:
        body["ARAccountRef"] = _ref(receivables)
    return body


def payment_body(
    item: PaymentOut, *, method: str | None, deposit_to: str | None, reference: str
) -> dict[str, Any]:
    """A Payment applied to its invoice (``LinkedTxn``); Undeposited Funds unless a bank is mapped."""
    body: dict[str, Any] = {
        "CustomerRef": _ref(item.customer_external_id),
        "TotalAmt": money(item.amount),
        "TxnDate": item.paid_at.isoformat(),
        "PaymentRefNum": reference[:21],
        "PrivateNote": f"ERP {item.reference}",
        "Line": [
            {
                "Amount": money(item.amount),
                "LinkedTxn": [{"TxnId": item.document_external_id, "TxnType": "Invoice"}],
            }
        ],
    }
    if item.currency:
        body["CurrencyRef"] = _ref(item.currency)
    if method:
        body["PaymentMethodRef"] = _ref(method)
    if deposit_to:
        body["DepositToAccountRef"] = _ref(deposit_to)
    return body


def refund_check_body(
    item: PaymentOut, *, account: str, card: bool, receivables: str, method: str | None
) -> dict[str, Any]:
    """A refund of a credit memo as Intuit's guide makes one: a check to the customer (a
    ``Purchase``: "CreditCard" when paid back on the card's account) whose one line is on
    Accounts Receivable, so it owes the customer's credit back until a payment links the two."""
    body: dict[str, Any] = {
        "PaymentType": "CreditCard" if card else "Check",
        "AccountRef": _ref(account),
        "EntityRef": {"value": item.customer_external_id, "type": "Customer"},
        "TxnDate": item.paid_at.isoformat(),
        "TotalAmt": money(item.amount),
        "PrivateNote": f"ERP {item.reference}",
        "Line": [
            {
                "DetailType": "AccountBasedExpenseLineDetail",
                "Amount": money(item.amount),
                "Description": f"Refund of credit memo {item.document_external_id}",
                "AccountBasedExpenseLineDetail": {"AccountRef": _ref(receivables)},
            }
        ],
    }
    if item.currency:
        body["CurrencyRef"] = _ref(item.currency)
    if method:
        body["PaymentMethodRef"] = _ref(method)
    return body


def refund_apply_body(item: PaymentOut, check_id: str) -> dict[str, Any]:
    """The payment of nothing that uses the credit memo up against the refund check: the credit
    memo's line a credit, the check's ("Expense") a charge, each the refund's amount."""
    amount = money(item.amount)
    body: dict[str, Any] = {
        "CustomerRef": _ref(item.customer_external_id),
        "TotalAmt": 0,
        "TxnDate": item.paid_at.isoformat(),
        "PrivateNote": f"ERP {item.reference}",
        "Line": [
            {"Amount": amount, "LinkedTxn": [{"TxnId": item.document_external_id, "TxnType": "CreditMemo"}]},
            {"Amount": amount, "LinkedTxn": [{"TxnId": check_id, "TxnType": "Expense"}]},
        ],
    }
    if item.currency:
        body["CurrencyRef"] = _ref(item.currency)
    return body


def bill_payment_body(item: BillPaymentOut, *, account: str, card: bool) -> dict[str, Any]:
    """A BillPayment of one bill: by check from the bank account, or on the credit card's."""
    body: dict[str, Any] = {
        "VendorRef": _ref(item.vendor_external_id),
        "TotalAmt": money(item.amount),
        "TxnDate": item.paid_at.isoformat(),
        "PrivateNote": f"ERP {item.reference}",
        "Line": [
            {"Amount": money(item.amount), "LinkedTxn": [{"TxnId": item.bill_external_id, "TxnType": "Bill"}]}
        ],
    }
    if card:
        body.update(PayType="CreditCard", CreditCardPayment={"CCAccountRef": _ref(account)})
    else:
        body.update(PayType="Check", CheckPayment={"BankAccountRef": _ref(account)})
    if item.currency:
        body["CurrencyRef"] = _ref(item.currency)
    return body


def bill_body(item: BillOut, expense_account: str, *, payables: str | None = None) -> dict[str, Any]:
    """A Bill: each line an AccountBasedExpenseLineDetail on the expense (COGS) account, the tax
    the supplier charged on it included (the cost of the goods, as a US company books purchase
    tax): the bill's total is ours."""
    lines = [
        {
            "DetailType": "AccountBasedExpenseLineDetail",
            "Amount": money(line.amount + line.tax_amount),
            "Description": (
                (f"{line.sku} · {line.description}" if line.sku else line.description)
                + (f" (tax {money(line.tax_amount):.2f} included)" if line.tax_amount else "")
            )[:4000],
            "AccountBasedExpenseLineDetail": {"AccountRef": _ref(expense_account)},
        }
        for line in item.lines
    ]
    body: dict[str, Any] = {
        "VendorRef": _ref(item.vendor_external_id),
        "DocNumber": item.supplier_reference[:21],
        "PrivateNote": item.number,
        "TxnDate": item.bill_date.isoformat(),
        "DueDate": item.due_date.isoformat(),
        "Line": lines,
    }
    if item.currency:
        body["CurrencyRef"] = _ref(item.currency)
    if payables:
        body["APAccountRef"] = _ref(payables)
    return body


def payment_record(raw: Mapping[str, Any]) -> PaymentRecord:
    """A Payment as QuickBooks has it, applied to the invoices it links to."""
    meta = raw.get("MetaData") or {}
    updated = meta.get("LastUpdatedTime")
    return PaymentRecord(
        external_id=str(raw["Id"]),
        paid_at=datetime.date.fromisoformat(str(raw["TxnDate"])),
        amount=Decimal(str(raw["TotalAmt"])),
        currency=str((raw.get("CurrencyRef") or {}).get("value") or "USD"),
        applied_to=tuple(
            PaymentApplication(str(link["TxnId"]), Decimal(str(line["Amount"])))
            for line in raw.get("Line") or ()
            for link in line.get("LinkedTxn") or ()
            if link.get("TxnType") == "Invoice"
        ),
        method=str((raw.get("PaymentMethodRef") or {}).get("name") or ""),
        reference=str(raw.get("PaymentRefNum") or ""),
        updated_at=datetime.datetime.fromisoformat(str(updated)) if updated else None,
    )


def changes(body: bytes) -> list[dict[str, str]]:
    """The entity changes of a webhook body, either format: {"realm", "name", "id", "operation",
    "event_id", "deleted_id"}. Raises ValueError on a body that is neither."""
    parsed = json.loads(body)
    found: list[dict[str, str]] = []
    if isinstance(parsed, list):  # CloudEvents
        for event in parsed:
            _, entity, past, *_ = str(event["type"]).split(".")
            found.append(
                {
                    "realm": str(event["intuitaccountid"]),
                    "name": entity.capitalize() if entity != "creditmemo" else "CreditMemo",
                    "id": str(event["intuitentityid"]),
                    "operation": OPERATIONS.get(past, past.capitalize()),
                    "event_id": str(event["id"]),
                    "deleted_id": str((event.get("data") or {}).get("deletedid") or ""),
                }
            )
        return found
    for note in parsed["eventNotifications"]:
        realm = str(note["realmId"])
        for entity in note["dataChangeEvent"]["entities"]:
            key = f"{realm}:{entity['name']}:{entity['id']}:{entity['operation']}:{entity['lastUpdated']}"
            found.append(
                {
                    "realm": realm,
                    "name": str(entity["name"]),
                    "id": str(entity["id"]),
                    "operation": str(entity["operation"]),
                    "event_id": "legacy:" + hashlib.sha256(key.encode()).hexdigest()[:40],
                    "deleted_id": str(entity.get("deletedId") or ""),
                }
            )
    return found


def _amount(value: Any) -> str:
    """A JSON number of QuickBooks' as an amount to the cent ("20.0" -> "20.00")."""
    return "" if value is None else str(Decimal(str(value)).quantize(CENT, ROUND_HALF_UP))


def in_our_words(object_type: str, row: Mapping[str, Any]) -> dict[str, str]:
    """A record read back, in the out-record's field names (reconciliation)."""
    if object_type in ("customer", "vendor"):
        return {
            "name": str(row.get("PrintOnCheckName") or row.get("DisplayName") or ""),
            "email": str((row.get("PrimaryEmailAddr") or {}).get("Address") or ""),
        }
    if object_type == "invoice":
        voided = (
            "true" if "Voided" in str(row.get("PrivateNote") or "") and not row.get("TotalAmt") else "false"
        )
        return {
            "total": _amount(row.get("TotalAmt")),
            "customer_external_id": str((row.get("CustomerRef") or {}).get("value") or ""),
            "voided": voided,
        }
    links = [t["TxnId"] for line in row.get("Line") or () for t in line.get("LinkedTxn") or ()]
    return {"amount": _amount(row.get("TotalAmt")), "document_external_id": str(links[0]) if links else ""}
