"""The fake QuickBooks' purchase side and journal: Bill, Purchase, BillPayment's bills, JournalEntry.

* Bill: ``VendorRef`` required (2020), ``ItemBasedExpenseLineDetail`` (``ItemRef``, ``Qty``,
  ``UnitPrice``; ``Amount`` = ``Qty * UnitPrice`` else 6070) or ``AccountBasedExpenseLineDetail``
  (``AccountRef``) lines, numbered; ``APAccountRef`` defaults to A/P (33); ``DueDate`` from the
  terms (``SalesTermRef`` or the vendor's ``TermRef``) else ``TxnDate``; ``TotalAmt`` the sum of
  the lines and ``Balance`` what bill payments leave of it (``bill_create_response.json``).
* Purchase (an expense: a check, cash or a card charge; Intuit's API reference): ``PaymentType``
  required (2020) and one of Cash, Check, CreditCard (2170 otherwise); ``AccountRef`` required,
  the account paid from: a bank account for Check and Cash, a credit card account for
  CreditCard (6000 otherwise [inferred]); ``EntityRef`` {value, type: Customer or Vendor (the
  default [inferred])} names the payee; lines as a bill's. A line on an Accounts Receivable
  account needs ``EntityRef`` to be a customer (6000, the text QuickBooks' own form gives
  [inferred]): such a check raises what the customer owes until a payment links it
  (``LinkedTxn`` TxnType "Expense", see ``fake_txns``). ``TotalAmt`` is the sum of the lines; one
  sent that differs is 6000 [inferred]. A Purchase can be deleted, not voided (Intuit documents
  create, read, update, delete and query for it); one a payment links is not deleted (6000,
  as invoices [inferred]).
* JournalEntry: ``JournalEntryLineDetail`` lines (``PostingType`` Debit/Credit, ``AccountRef``);
  debits must equal credits, else a 6000 business validation fault [inferred text];
  ``TotalAmt`` is the debits.

``prepare_txn`` dispatches every transaction to its preparation (``fake_txns`` for the sales
forms and payments).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from integrations.quickbooks.fake_company import Company
from integrations.quickbooks.fake_data import (
    AP_ACCOUNT_ID,
    QBOFault,
    bad_request,
    business,
    not_found,
    required,
)
from integrations.quickbooks.fake_txns import (
    SALES_FORMS,
    check_product,
    common_fields,
    line_amount,
    money,
    number,
    number_lines,
    parse_date,
    prepare_payment,
    prepare_sales,
    receivable_lines,
)

EXPENSE_LINES = ("ItemBasedExpenseLineDetail", "AccountBasedExpenseLineDetail")
# What each PaymentType of a Purchase pays from: its AccountRef's AccountType [inferred].
PAID_FROM = {"Cash": ("Bank", "Other Current Asset"), "Check": ("Bank",), "CreditCard": ("Credit Card",)}
PAYEES = ("Customer", "Vendor")  # an EntityRef's type the fake keeps (no employees)


def prepare_bill(
    company: Company, body: dict[str, Any], own_id: str | None, now: datetime.datetime
) -> dict[str, Any]:
    fields = dict(body)
    if fields.get("VendorRef") is None:
        raise required("VendorRef")
    vendor = company.ref("Vendor", fields["VendorRef"], "VendorRef")
    fields["VendorRef"] = {"value": vendor["Id"], "name": vendor["DisplayName"]}
    raw_lines = fields.get("Line")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise required("Line")
    common_fields(company, fields, now)
    fields["APAccountRef"] = company.named_ref(
        "Account", fields.get("APAccountRef") or {"value": AP_ACCOUNT_ID}, "APAccountRef"
    )
    lines, total = expense_lines(company, raw_lines, "Bill")
    fields["Line"] = lines
    term_ref = fields.get("SalesTermRef") or vendor.get("TermRef")
    if fields.get("DueDate") is None:
        days = int(company.ref("Term", term_ref, "SalesTermRef").get("DueDays") or 0) if term_ref else 0
        fields["DueDate"] = (
            parse_date(fields["TxnDate"], "TxnDate") + datetime.timedelta(days=days)
        ).isoformat()
    fields.setdefault("LinkedTxn", [])
    fields["TotalAmt"] = number(total)
    fields["Balance"] = number(total)
    return fields


def expense_lines(
    company: Company, raw_lines: list[Any], entity: str
) -> tuple[list[dict[str, Any]], Decimal]:
    """A bill's or a purchase's lines as stored (numbered), and their sum: each an item
    (``Amount`` = ``Qty * UnitPrice``, else 6070) or an account, with its refs checked."""
    lines, total = [], Decimal(0)
    for raw in raw_lines:
        line = dict(raw)
        kind = line.get("DetailType")
        if kind not in EXPENSE_LINES:
            raise bad_request(f"Unsupported Line.DetailType {kind!r} for {entity}")
        detail = dict(line.get(kind) or {})
        element = f"Line.{kind}"
        if kind == "ItemBasedExpenseLineDetail":
            if not isinstance(detail.get("ItemRef"), dict) or not detail["ItemRef"].get("value"):
                raise required(f"{element}.ItemRef")
            detail["ItemRef"] = company.named_ref("Item", detail["ItemRef"], f"{element}.ItemRef")
            total += line_amount(line, "Line")
            check_product(line, detail, "Line")
        else:
            if detail.get("AccountRef") is None:
                raise required(f"{element}.AccountRef")
            detail["AccountRef"] = company.named_ref("Account", detail["AccountRef"], f"{element}.AccountRef")
            total += line_amount(line, "Line")
        if detail.get("TaxCodeRef") is not None:
            company.ref("TaxCode", detail["TaxCodeRef"], f"{element}.TaxCodeRef")
        for key, named in (("CustomerRef", "Customer"), ("ClassRef", "Class")):
            if detail.get(key) is not None:
                detail[key] = company.named_ref(named, detail[key], f"{element}.{key}")
        line[kind] = detail
        lines.append(line)
    number_lines(lines)
    return lines, total


def prepare_purchase(company: Company, body: dict[str, Any], now: datetime.datetime) -> dict[str, Any]:
    """A Purchase (a check, cash or a card charge) as stored, or its fault."""
    fields = dict(body)
    pay_type = fields.get("PaymentType")
    if pay_type in (None, ""):
        raise required("PaymentType")
    if pay_type not in PAID_FROM:
        raise QBOFault(
            "2170",
            "Invalid Enumeration",
            f"Invalid Enumeration : {pay_type} is not a valid PaymentType (Cash, Check, CreditCard)",
            element="PaymentType",
        )
    if fields.get("AccountRef") is None:
        raise required("AccountRef")
    account = company.ref("Account", fields["AccountRef"], "AccountRef")
    if account.get("AccountType") not in PAID_FROM[pay_type]:
        raise business(
            f"A {pay_type} purchase is paid from a {' or '.join(PAID_FROM[pay_type])} account, not "
            f"{account['Name']} ({account.get('AccountType')})",
            element="AccountRef",
        )
    fields["AccountRef"] = {"value": account["Id"], "name": account["Name"]}
    payee = _payee(company, fields.get("EntityRef"))
    if payee is not None:
        fields["EntityRef"] = payee
    raw_lines = fields.get("Line")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise required("Line")
    common_fields(company, fields, now)
    lines, total = expense_lines(company, raw_lines, "Purchase")
    if receivable_lines(company, lines) and (payee is None or payee["type"] != "Customer"):
        raise business(
            "When you use Accounts Receivable, you must choose a customer in the Name field.",
            element="EntityRef",
        )
    if fields.get("TotalAmt") is not None and money(fields["TotalAmt"]) != total:
        raise business(
            f"The total ({money(fields['TotalAmt'])}) is not the sum of the lines ({total})",
            element="TotalAmt",
        )
    if fields.get("PaymentMethodRef") is not None:
        fields["PaymentMethodRef"] = company.named_ref(
            "PaymentMethod", fields["PaymentMethodRef"], "PaymentMethodRef"
        )
    fields["Line"] = lines
    if pay_type == "CreditCard":
        fields.setdefault("Credit", False)
    fields["TotalAmt"] = number(total)
    return fields


def _payee(company: Company, ref: Any) -> dict[str, Any] | None:
    """A Purchase's ``EntityRef`` as stored (``{"value", "name", "type"}``), None when not sent."""
    if ref is None:
        return None
    kind = (ref.get("type") or "Vendor") if isinstance(ref, dict) else "Vendor"
    if kind not in PAYEES:
        raise not_found("EntityRef")
    payee = company.ref(kind, ref, "EntityRef")
    return {"value": payee["Id"], "name": payee["DisplayName"], "type": kind}


def prepare_journal(company: Company, body: dict[str, Any], now: datetime.datetime) -> dict[str, Any]:
    fields = dict(body)
    raw_lines = fields.get("Line")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise required("Line")
    common_fields(company, fields, now)
    debits, credits, lines = Decimal(0), Decimal(0), []
    for raw in raw_lines:
        line = dict(raw)
        if line.get("DetailType") != "JournalEntryLineDetail":
            raise bad_request(f"Unsupported Line.DetailType {line.get('DetailType')!r} for JournalEntry")
        detail = dict(line.get("JournalEntryLineDetail") or {})
        element = "Line.JournalEntryLineDetail"
        posting = detail.get("PostingType")
        if posting not in ("Debit", "Credit"):
            raise required(f"{element}.PostingType")
        if detail.get("AccountRef") is None:
            raise required(f"{element}.AccountRef")
        detail["AccountRef"] = company.named_ref("Account", detail["AccountRef"], f"{element}.AccountRef")
        amount = line_amount(line, "Line")
        if posting == "Debit":
            debits += amount
        else:
            credits += amount
        line["JournalEntryLineDetail"] = detail
        lines.append(line)
    if debits != credits:
        raise business(
            "Your transaction must balance. The total debits and credits must be equal "
            f"(debits {debits}, credits {credits}).",
            element="Line",
        )
    number_lines(lines)
    fields["Line"] = lines
    fields.setdefault("Adjustment", False)
    fields["TotalAmt"] = number(debits)
    return fields


def prepare_txn(
    company: Company, entity: str, body: dict[str, Any], own_id: str | None, now: datetime.datetime
) -> dict[str, Any]:
    if entity in SALES_FORMS:
        return prepare_sales(company, entity, body, own_id, now)
    if entity in ("Payment", "BillPayment"):
        return prepare_payment(company, entity, body, own_id, now)
    if entity == "Bill":
        return prepare_bill(company, body, own_id, now)
    if entity == "Purchase":
        return prepare_purchase(company, body, now)
    return prepare_journal(company, body, now)
