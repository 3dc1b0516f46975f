"""The fake QuickBooks' transactions: what it computes when one is created or updated.

* Invoice, CreditMemo, RefundReceipt (sales forms): ``Line[]`` of ``SalesItemLineDetail``
  (``ItemRef`` required: 2020 ``Line.SalesItemLineDetail.ItemRef``; ``ItemRef`` ``SHIPPING_ITEM_ID``
  is the company's shipping line; ``Amount`` must equal ``Qty * UnitPrice``, else 6070;
  ``UnitPrice`` defaults to the item's; ``TaxCodeRef`` ``TAX``/``NON`` or a tax code),
  ``DiscountLineDetail`` (an ``Amount``, or ``PercentBased`` with ``DiscountPercent`` of the
  subtotal) and ``DescriptionOnly``. QuickBooks numbers the lines (``Id``, ``LineNum``), drops a
  ``SubTotalLineDetail`` sent to it and appends its own (the sum of the item lines, shipping
  excepted). Tax: the taxable lines (after the discount when ``ApplyTaxAfterDiscount``) at the
  rate of ``TxnTaxDetail.TxnTaxCodeRef`` or the company's sales tax (6 %, code 3); a
  ``TxnTaxDetail.TotalTax`` sent overrides the computed tax. ``TotalAmt`` = subtotal - discount +
  shipping + tax. An invoice's ``Balance`` is ``TotalAmt`` less the payments applied to it
  (``LinkedTxn`` lists them); its ``DueDate``, when not sent, is ``TxnDate`` plus the days of
  ``SalesTermRef`` (or the customer's terms), else ``TxnDate``. ``DocNumber``: at most 21
  characters, unique among invoices (6140) as a company that refuses duplicate numbers does.
* Payment: ``CustomerRef`` and ``TotalAmt`` required; each ``Line`` applies its ``Amount`` to the
  invoices, credit memos or checks on A/R (``TxnType`` "Expense": a Purchase whose lines are on
  Accounts Receivable, as a refund of a credit memo is made) in its ``LinkedTxn`` (610 for a
  missing one, 6000 for another customer's or more than its open balance). Credit memo lines are
  credits, invoice and expense lines charges: what the payment applies is the charges less the
  credits, never below 0 (6000 [inferred]) nor above ``TotalAmt`` (6000), so a payment of 0 uses
  a credit memo up against a refund check; ``UnappliedAmt`` is the rest; each line gets the
  sample's ``LineEx`` (txnId, txnOpenBalance, txnReferenceNumber). A linked check itself is not
  changed by the link [inferred].
* Bills and journal entries are prepared in ``fake_ledger``; bill payments here, as payments are
  (``VendorRef``, ``PayType`` Check with ``CheckPayment.BankAccountRef`` or CreditCard with
  ``CreditCardPayment.CCAccountRef``, ``TotalAmt``, lines linking bills). ``refresh_balances``
  recomputes what payments leave open on invoices, credit memos and bills, and customer and
  vendor balances: a customer owes its invoices' balances and what checks on A/R paid it and no
  payment links yet, less its credit memos' balances and its payments' unapplied amounts.
* A line's ``ClassRef`` (sales and discount lines) and the transaction's ``ClassRef`` and
  ``DepartmentRef`` (location) name a live Class and Department of the company (610 otherwise).

Texts of 6000, 6070 and 6140 are [inferred]; the shapes follow the samples.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from integrations.quickbooks import fake_data
from integrations.quickbooks.fake_company import Company
from integrations.quickbooks.fake_data import (
    AP_ACCOUNT_ID,
    AR_ACCOUNT_ID,
    SHIPPING_ITEM_ID,
    UNDEPOSITED_FUNDS_ID,
    USD,
    QBOFault,
    bad_request,
    business,
    invalid_value,
    required,
    today,
)

SALES_FORMS = ("Invoice", "CreditMemo", "RefundReceipt")
CENT = Decimal("0.01")
RECEIVABLE = "Accounts Receivable"  # the AccountType of A/R
# What a Payment's LinkedTxn may name: its TxnType -> the entity (a check on A/R is an "Expense").
PAYMENT_TARGETS = {"Invoice": "Invoice", "CreditMemo": "CreditMemo", "Expense": "Purchase"}


def money(value: Any) -> Decimal:
    try:
        return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)
    except ArithmeticError:
        raise bad_request(f"Not an amount: {value!r}") from None


def number(value: Decimal) -> float | int:
    """An amount as QuickBooks writes it (a JSON number)."""
    return float(value)


def line_amount(line: dict[str, Any], element: str) -> Decimal:
    if line.get("Amount") is None:
        raise required(f"{element}.Amount")
    return money(line["Amount"])


def check_product(line: dict[str, Any], detail: dict[str, Any], element: str) -> None:
    """6070 when ``Amount`` is not ``Qty * UnitPrice``."""
    qty, price = detail.get("Qty"), detail.get("UnitPrice")
    if qty is None or price is None:
        return
    expected = (Decimal(str(qty)) * Decimal(str(price))).quantize(CENT, ROUND_HALF_UP)
    if expected != money(line["Amount"]):
        raise QBOFault(
            "6070",
            "Amount calculation incorrect in the request",
            f"Amount is not equal to UnitPrice * Qty. Supplied value:{line['Amount']}",
            element=f"{element}.Amount",
        )


def parse_date(value: Any, element: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise QBOFault("2070", "Invalid Date", f"Invalid date {value!r}", element=element) from None


def common_fields(company: Company, fields: dict[str, Any], now: datetime.datetime) -> None:
    fields.setdefault("TxnDate", today(now))
    parse_date(fields["TxnDate"], "TxnDate")
    for key, entity in (("ClassRef", "Class"), ("DepartmentRef", "Department")):
        if fields.get(key) is not None:
            fields[key] = company.named_ref(entity, fields[key], key)
    fields.setdefault("CurrencyRef", dict(USD))


def number_lines(lines: list[dict[str, Any]]) -> None:
    number_ = 0
    for line in lines:
        if line.get("DetailType") == "SubTotalLineDetail":
            continue
        number_ += 1
        line["Id"] = str(number_)
        line["LineNum"] = number_


def _tax_code_taxable(company: Company, ref: Any, element: str) -> bool:
    code = company.ref("TaxCode", ref, element)
    return bool(code.get("Taxable"))


def _tax_rate(company: Company, code_id: str) -> tuple[str | None, Decimal]:
    code = company.find("TaxCode", code_id)
    details = ((code or {}).get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
    if not details:
        return None, Decimal(0)
    rate_id = details[0]["TaxRateRef"]["value"]
    rate = company.find("TaxRate", rate_id)
    return rate_id, Decimal(str((rate or {}).get("RateValue", 0)))


# --- sales forms -----------------------------------------------------------------------------------


def prepare_sales(
    company: Company, entity: str, body: dict[str, Any], own_id: str | None, now: datetime.datetime
) -> dict[str, Any]:
    """An Invoice, CreditMemo or RefundReceipt as QuickBooks stores it (no meta keys)."""
    fields = dict(body)
    if fields.get("CustomerRef") is None and entity != "RefundReceipt":
        raise required("CustomerRef")
    customer = None
    if fields.get("CustomerRef") is not None:
        customer = company.ref("Customer", fields["CustomerRef"], "CustomerRef")
        fields["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}
    raw_lines = fields.get("Line")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise required("Line")
    common_fields(company, fields, now)
    lines, subtotal, shipping, taxable, discounts = [], Decimal(0), Decimal(0), Decimal(0), []
    for raw in raw_lines:
        if not isinstance(raw, dict):
            raise bad_request("A Line must be an object")
        line = dict(raw)
        kind = line.get("DetailType")
        if kind == "SubTotalLineDetail":
            continue
        if kind == "SalesItemLineDetail":
            detail = dict(line.get("SalesItemLineDetail") or {})
            element = "Line.SalesItemLineDetail"
            item_ref = detail.get("ItemRef")
            if not isinstance(item_ref, dict) or not item_ref.get("value"):
                raise required(f"{element}.ItemRef")
            shipping_line = item_ref["value"] == SHIPPING_ITEM_ID
            if not shipping_line:
                item = company.ref("Item", item_ref, f"{element}.ItemRef")
                detail["ItemRef"] = {"value": item["Id"], "name": item["Name"]}
                if detail.get("UnitPrice") is None and detail.get("Qty") is not None:
                    detail["UnitPrice"] = item.get("UnitPrice", 0)
                detail.setdefault("TaxCodeRef", {"value": "TAX" if item.get("Taxable") else "NON"})
            else:
                detail.setdefault("TaxCodeRef", {"value": "NON"})
            if (
                line.get("Amount") is None
                and detail.get("Qty") is not None
                and detail.get("UnitPrice") is not None
            ):
                line["Amount"] = number(
                    money(Decimal(str(detail["Qty"])) * Decimal(str(detail["UnitPrice"])))
                )
            amount = line_amount(line, "Line")
            check_product(line, detail, "Line")
            _line_class(company, detail, element)
            if _tax_code_taxable(company, detail["TaxCodeRef"], f"{element}.TaxCodeRef"):
                taxable += amount
            if shipping_line:
                shipping += amount
            else:
                subtotal += amount
            line["SalesItemLineDetail"] = detail
        elif kind == "DiscountLineDetail":
            detail = dict(line.get("DiscountLineDetail") or {})
            if detail.get("DiscountAccountRef") is not None:
                detail["DiscountAccountRef"] = company.named_ref(
                    "Account", detail["DiscountAccountRef"], "Line.DiscountLineDetail.DiscountAccountRef"
                )
            _line_class(company, detail, "Line.DiscountLineDetail")
            if not detail.get("PercentBased"):
                line_amount(line, "Line")
            elif detail.get("DiscountPercent") is None:
                raise required("Line.DiscountLineDetail.DiscountPercent")
            line["DiscountLineDetail"] = detail
            discounts.append(line)
        elif kind == "DescriptionOnly":
            line.setdefault("DescriptionLineDetail", {})
        else:
            raise bad_request(f"Unsupported Line.DetailType {kind!r} for {entity}")
        lines.append(line)
    discount = Decimal(0)
    for line in discounts:
        detail = line["DiscountLineDetail"]
        if detail.get("PercentBased"):
            line["Amount"] = number(money(subtotal * Decimal(str(detail["DiscountPercent"])) / 100))
        discount += money(line["Amount"])
    number_lines(lines)
    lines.append({"Amount": number(subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
    fields["Line"] = lines
    fields.setdefault("ApplyTaxAfterDiscount", False)
    if fields["ApplyTaxAfterDiscount"] and subtotal:
        taxable = money(taxable * (1 - discount / subtotal))
    tax = _tax_detail(company, fields, taxable)
    total = subtotal - discount + shipping + tax
    doc = fields.get("DocNumber")
    if doc is not None:
        if len(str(doc)) > 21:
            raise invalid_value("DocNumber", "DocNumber is longer than 21 characters")
        if company.refuse_duplicate_doc_numbers:
            for other in company.objects[entity].values():
                if (
                    other["Id"] != own_id
                    and str(other.get("DocNumber", "")).casefold() == str(doc).casefold()
                ):
                    raise business(
                        "You must specify a different number. This number has already been used.",
                        code="6140",
                        element="DocNumber",
                    )
    if customer is not None:
        for key in ("BillAddr", "ShipAddr"):
            if fields.get(key) is None and customer.get(key):
                fields[key] = dict(customer[key])
            elif fields.get(key) is not None:
                fields[key] = company.address(fields[key])
        if fields.get("BillEmail") is None and customer.get("PrimaryEmailAddr"):
            fields["BillEmail"] = dict(customer["PrimaryEmailAddr"])
    if entity == "RefundReceipt":
        if fields.get("DepositToAccountRef") is None:
            raise required("DepositToAccountRef")
        fields["DepositToAccountRef"] = company.named_ref(
            "Account", fields["DepositToAccountRef"], "DepositToAccountRef"
        )
    if fields.get("PaymentMethodRef") is not None:
        fields["PaymentMethodRef"] = company.named_ref(
            "PaymentMethod", fields["PaymentMethodRef"], "PaymentMethodRef"
        )
    if entity == "Invoice":
        _dueparse_date(company, fields, customer)
        for key in (
            "AllowIPNPayment",
            "AllowOnlinePayment",
            "AllowOnlineCreditCardPayment",
            "AllowOnlineACHPayment",
        ):
            fields.setdefault(key, False)
    defaults: dict[str, Any] = {
        "CustomField": [],
        "CurrencyRef": dict(USD),
        "ExchangeRate": 1,
        "LinkedTxn": [],
        "PrintStatus": "NeedToPrint",
        "EmailStatus": "NotSet",
        "FreeFormAddress": False,
    }
    for key, value in defaults.items():
        fields.setdefault(key, value)
    fields["TotalAmt"] = number(total)
    fields["HomeTotalAmt"] = number(total)
    if entity == "Invoice":
        fields["Balance"] = number(total)
        fields["HomeBalance"] = number(total)
        fields["Deposit"] = 0
    elif entity == "CreditMemo":
        fields["Balance"] = number(total)
        fields["RemainingCredit"] = number(total)
    else:
        fields["Balance"] = 0
    fields["GlobalTaxCalculation"] = fields.get("GlobalTaxCalculation") or "TaxExcluded"
    return fields


def _line_class(company: Company, detail: dict[str, Any], element: str) -> None:
    if detail.get("ClassRef") is not None:
        detail["ClassRef"] = company.named_ref("Class", detail["ClassRef"], f"{element}.ClassRef")


def _tax_detail(company: Company, fields: dict[str, Any], taxable: Decimal) -> Decimal:
    raw = fields.get("TxnTaxDetail")
    sent: dict[str, Any] = raw if isinstance(raw, dict) else {}
    code_ref = sent.get("TxnTaxCodeRef")
    if code_ref is not None:
        company.ref("TaxCode", code_ref, "TxnTaxDetail.TxnTaxCodeRef")
        code_id = str(code_ref["value"])
    else:
        code_id = company.default_tax_code
    rate_id, rate = _tax_rate(company, code_id)
    if taxable <= 0 or rate_id is None:
        override = sent.get("TotalTax")
        tax = money(override) if override is not None else Decimal(0)
        fields["TxnTaxDetail"] = {"TotalTax": number(tax)}
        return tax
    tax = money(taxable * rate / 100)
    if sent.get("TotalTax") is not None:
        tax = money(sent["TotalTax"])
    fields["TxnTaxDetail"] = {
        "TxnTaxCodeRef": {"value": code_id},
        "TotalTax": number(tax),
        "TaxLine": [
            {
                "Amount": number(tax),
                "DetailType": "TaxLineDetail",
                "TaxLineDetail": {
                    "TaxRateRef": {"value": rate_id},
                    "PercentBased": True,
                    "TaxPercent": int(rate) if rate == int(rate) else float(rate),
                    "NetAmountTaxable": number(taxable),
                },
            }
        ],
    }
    return tax


def _dueparse_date(company: Company, fields: dict[str, Any], customer: dict[str, Any] | None) -> None:
    term_ref = fields.get("SalesTermRef") or (customer or {}).get("SalesTermRef")
    days = 0
    if term_ref is not None:
        term = company.ref("Term", term_ref, "SalesTermRef")
        fields["SalesTermRef"] = {"value": term["Id"], "name": term["Name"]}
        days = int(term.get("DueDays") or 0)
    if fields.get("DueDate") is None:
        fields["DueDate"] = (
            parse_date(fields["TxnDate"], "TxnDate") + datetime.timedelta(days=days)
        ).isoformat()
    else:
        parse_date(fields["DueDate"], "DueDate")


# --- payments ---------------------------------------------------------------------------------------


def applied(company: Company, target: str, target_id: str, *, skip: str | None = None) -> Decimal:
    """What live payments (``Payment`` for invoices, credit memos and checks on A/R ("Expense"),
    ``BillPayment`` for bills) apply to one transaction, ``skip`` (a payment being rewritten) aside."""
    payer = "BillPayment" if target == "Bill" else "Payment"
    total = Decimal(0)
    for payment in company.objects[payer].values():
        if payment["Id"] == skip:
            continue
        for line in payment.get("Line") or []:
            for link in line.get("LinkedTxn") or []:
                if link.get("TxnType") == target and str(link.get("TxnId")) == target_id:
                    total += money(line.get("Amount", 0))
    return total


def receivable_lines(company: Company, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines of a Purchase that are on an Accounts Receivable account."""
    found = []
    for line in lines:
        account_ref = (line.get("AccountBasedExpenseLineDetail") or {}).get("AccountRef") or {}
        if (company.find("Account", account_ref.get("value")) or {}).get("AccountType") == RECEIVABLE:
            found.append(line)
    return found


def receivable(company: Company, purchase: dict[str, Any]) -> Decimal:
    """What a Purchase (a check to a customer) puts on Accounts Receivable."""
    lines = receivable_lines(company, purchase.get("Line") or [])
    return sum((money(line.get("Amount", 0)) for line in lines), Decimal(0))


def _open_balance(company: Company, kind: str, txn: dict[str, Any], own_id: str | None) -> Decimal:
    """What is left of a transaction to apply a payment to (a check: what it put on A/R)."""
    whole = receivable(company, txn) if kind == "Expense" else money(txn.get("TotalAmt", 0))
    return whole - applied(company, kind, txn["Id"], skip=own_id)


def _party(kind: str, txn: dict[str, Any], party_ref: str) -> str | None:
    """The customer or vendor a linked transaction belongs to (a check: its customer payee)."""
    if kind == "Expense":
        payee = txn.get("EntityRef") or {}
        return payee.get("value") if payee.get("type") == "Customer" else None
    return (txn.get(party_ref) or {}).get("value")


def prepare_payment(
    company: Company, entity: str, body: dict[str, Any], own_id: str | None, now: datetime.datetime
) -> dict[str, Any]:
    """A Payment (to invoices) or a BillPayment (to bills) as stored."""
    fields = dict(body)
    party, party_ref, target = (
        ("Customer", "CustomerRef", PAYMENT_TARGETS)
        if entity == "Payment"
        else ("Vendor", "VendorRef", {"Bill": "Bill"})
    )
    if fields.get(party_ref) is None:
        raise required(party_ref)
    payer = company.ref(party, fields[party_ref], party_ref)
    fields[party_ref] = {"value": payer["Id"], "name": payer["DisplayName"]}
    if fields.get("TotalAmt") is None:
        raise required("TotalAmt")
    total = money(fields["TotalAmt"])
    common_fields(company, fields, now)
    lines, charges, credits = [], Decimal(0), Decimal(0)
    for raw in fields.get("Line") or []:
        line = dict(raw)
        amount = line_amount(line, "Line")
        links = line.get("LinkedTxn") or []
        if not links:
            raise required("Line.LinkedTxn")
        ex = []
        for link in links:
            kind, txn_id = link.get("TxnType"), str(link.get("TxnId") or "")
            if kind not in target:
                raise business(f"A {entity} can not be linked to a {kind}", element="Line.LinkedTxn.TxnType")
            txn = company.find(target[kind], txn_id)
            if txn is None or (target[kind], txn_id) in company.voided:
                raise fake_data.not_found("Line.LinkedTxn.TxnId")
            if _party(kind, txn, party_ref) != payer["Id"]:
                raise business(
                    f"The {kind} {txn_id} belongs to another {party.lower()}", element="Line.LinkedTxn"
                )
            open_balance = _open_balance(company, kind, txn, own_id)
            if amount > open_balance:
                raise business(
                    f"The amount applied to {kind} {txn_id} ({amount}) is more than "
                    f"its open balance ({open_balance})",
                    element="Line.Amount",
                )
            ex.append(("txnId", txn_id))
            ex.append(("txnOpenBalance", f"{open_balance:.2f}"))
            ex.append(("txnReferenceNumber", str(txn.get("DocNumber", ""))))
        if entity == "Payment":
            line["LineEx"] = {"any": [_name_value(n, v) for n, v in ex]}
        lines.append(line)
        if links[0].get("TxnType") == "CreditMemo":
            credits += amount
        else:
            charges += amount
    applied_total = charges - credits
    if applied_total < 0:
        raise business(
            f"The credits applied ({credits}) are more than the charges they pay ({charges})",
            element="Line.Amount",
        )
    if applied_total > total:
        raise business(
            f"The amount applied ({applied_total}) is more than the payment ({total})", element="TotalAmt"
        )
    fields["Line"] = lines
    if entity == "Payment":
        deposit = fields.get("DepositToAccountRef") or {"value": UNDEPOSITED_FUNDS_ID}
        fields["DepositToAccountRef"] = company.named_ref("Account", deposit, "DepositToAccountRef")
        if fields.get("PaymentMethodRef") is not None:
            fields["PaymentMethodRef"] = company.named_ref(
                "PaymentMethod", fields["PaymentMethodRef"], "PaymentMethodRef"
            )
        fields.setdefault("ARAccountRef", {"value": AR_ACCOUNT_ID})
        fields["UnappliedAmt"] = number(total - applied_total)
        fields.setdefault("ProcessPayment", False)
    else:
        pay_type = fields.get("PayType")
        if pay_type not in ("Check", "CreditCard"):
            raise required("PayType")
        holder, account_key = (
            ("CheckPayment", "BankAccountRef")
            if pay_type == "Check"
            else ("CreditCardPayment", "CCAccountRef")
        )
        detail = dict(fields.get(holder) or {})
        if detail.get(account_key) is None:
            raise required(f"{holder}.{account_key}")
        detail[account_key] = company.named_ref("Account", detail[account_key], f"{holder}.{account_key}")
        fields[holder] = detail
        fields.setdefault("APAccountRef", {"value": AP_ACCOUNT_ID})
    return fields


def _name_value(name: str, value: str) -> dict[str, Any]:
    return {
        "name": "{http://schema.intuit.com/finance/v3}NameValue",
        "declaredType": "com.intuit.schema.finance.v3.NameValue",
        "scope": "javax.xml.bind.JAXBElement$GlobalScope",
        "value": {"Name": name, "Value": value},
        "nil": False,
        "globalScope": True,
        "typeSubstituted": False,
    }


def refresh_balances(company: Company) -> list[tuple[str, str]]:
    """Recompute the balances payments move; the (entity, id) of each transaction whose
    ``Balance`` or ``LinkedTxn`` changed (QuickBooks updates those: a new SyncToken)."""
    changed = []
    for entity, payer in (("Invoice", "Payment"), ("CreditMemo", "Payment"), ("Bill", "BillPayment")):
        for txn in company.objects[entity].values():
            paid = applied(company, entity, txn["Id"])
            balance = number(money(txn.get("TotalAmt", 0)) - paid)
            links = [
                {"TxnId": p["Id"], "TxnType": payer}
                for p in company.all(payer)
                if any(
                    link.get("TxnType") == entity and str(link.get("TxnId")) == txn["Id"]
                    for line in p.get("Line") or []
                    for link in line.get("LinkedTxn") or []
                )
            ]
            if txn.get("Balance") != balance or txn.get("LinkedTxn", []) != links:
                txn["Balance"] = balance
                if "HomeBalance" in txn:
                    txn["HomeBalance"] = balance
                if entity == "CreditMemo":
                    txn["RemainingCredit"] = balance
                txn["LinkedTxn"] = links
                changed.append((entity, txn["Id"]))
    for customer in company.objects["Customer"].values():
        owed = sum(
            (
                money(i.get("Balance", 0))
                for i in company.objects["Invoice"].values()
                if i["CustomerRef"]["value"] == customer["Id"]
            ),
            Decimal(0),
        )
        credit = sum(
            (
                money(c.get("Balance", 0))
                for c in company.objects["CreditMemo"].values()
                if c.get("CustomerRef", {}).get("value") == customer["Id"]
            ),
            Decimal(0),
        )
        unapplied = sum(
            (
                money(p.get("UnappliedAmt", 0))
                for p in company.objects["Payment"].values()
                if p["CustomerRef"]["value"] == customer["Id"]
            ),
            Decimal(0),
        )
        checks = sum(
            (
                receivable(company, c) - applied(company, "Expense", c["Id"])
                for c in company.objects["Purchase"].values()
                if _party("Expense", c, "") == customer["Id"]
            ),
            Decimal(0),
        )
        customer["Balance"] = number(owed + checks - credit - unapplied)
        customer["BalanceWithJobs"] = customer["Balance"]
    for vendor in company.objects["Vendor"].values():
        vendor["Balance"] = number(
            sum(
                (
                    money(b.get("Balance", 0))
                    for b in company.objects["Bill"].values()
                    if b["VendorRef"]["value"] == vendor["Id"]
                ),
                Decimal(0),
            )
        )
    return changed
