"""The fake QuickBooks' purchase side and journal: Bill, BillPayment's bills, JournalEntry.

* Bill: ``VendorRef`` required (2020), ``ItemBasedExpenseLineDetail`` (``ItemRef``, ``Qty``,
  ``UnitPrice``; ``Amount`` = ``Qty * UnitPrice`` else 6070) or ``AccountBasedExpenseLineDetail``
  (``AccountRef``) lines, numbered; ``APAccountRef`` defaults to A/P (33); ``DueDate`` from the
  terms (``SalesTermRef`` or the vendor's ``TermRef``) else ``TxnDate``; ``TotalAmt`` the sum of
  the lines and ``Balance`` what bill payments leave of it (``bill_create_response.json``).
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
from integrations.quickbooks.fake_data import AP_ACCOUNT_ID, bad_request, business, required
from integrations.quickbooks.fake_txns import (
    SALES_FORMS,
    check_product,
    common_fields,
    line_amount,
    number,
    number_lines,
    parse_date,
    prepare_payment,
    prepare_sales,
)


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
    lines, total = [], Decimal(0)
    for raw in raw_lines:
        line = dict(raw)
        kind = line.get("DetailType")
        if kind not in ("ItemBasedExpenseLineDetail", "AccountBasedExpenseLineDetail"):
            raise bad_request(f"Unsupported Line.DetailType {kind!r} for Bill")
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
        for key, entity in (("CustomerRef", "Customer"), ("ClassRef", "Class")):
            if detail.get(key) is not None:
                detail[key] = company.named_ref(entity, detail[key], f"{element}.{key}")
        line[kind] = detail
        lines.append(line)
    number_lines(lines)
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
    return prepare_journal(company, body, now)
