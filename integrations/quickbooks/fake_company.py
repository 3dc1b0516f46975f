"""One QuickBooks Online company (a realm) of the fake: its objects, their ids, and the name lists.

A ``Company`` keeps every object as its wire JSON (``objects[entity][id]``), what was deleted
(``tombstones``, for CDC: ``{"domain": "QBO", "status": "Deleted", "Id", "MetaData"}``), when each
object last changed (``changed_at``), the answers kept for ``requestid`` replays and the voided
transactions. It is seeded with the lists a new company has: a chart of accounts (income, COGS,
inventory asset, A/R, A/P, bank, a credit card, undeposited funds; ids as the samples: 4
Undeposited Funds, 33 A/P, 79 Sales of Product Income, 80 COGS, 81 Inventory Asset, 84 A/R; 35
Checking and 42 Company Credit Card), tax codes and rates
(``TAX``/``NON`` and the company's "KY Sales Tax" 6 %, id 3), payment methods, terms, classes
and departments.

Name lists (``prepare_name``): Customer (``DisplayName`` unique, case-insensitive, together with
vendors, as customers, vendors and employees share names; derived from Given/Family/Company name
when absent), Vendor (the same), Item (``Name`` unique among items; ``Type`` Service,
NonInventory or Inventory, the last needing its three accounts and ``InvStartDate``; an
``IncomeAccountRef`` for every type), Account, PaymentMethod, Term, Class, Department (``Name``
unique). A reference (``{"value": id}``) to a missing or inactive object is fault 610; the
answer carries the referenced object's ``name``. Defaults are the samples' (``Active``,
``Taxable``, ``Job``, ``Balance``, ``CurrencyRef``, ``PreferredDeliveryMethod`` ...).
"""

from __future__ import annotations

import copy
import datetime
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from integrations.quickbooks import fake_data
from integrations.quickbooks.fake_data import (
    USD,
    QBOFault,
    bad_request,
    duplicate_name,
    not_found,
    qbo_time,
    required,
)

NAME_LISTS = ("Customer", "Vendor", "Item", "Account", "PaymentMethod", "Term", "Class", "Department")
READ_ONLY = ("TaxCode", "TaxRate")
TRANSACTIONS = (
    "Invoice",
    "Payment",
    "CreditMemo",
    "RefundReceipt",
    "Bill",
    "BillPayment",
    "JournalEntry",
    "Purchase",
)
ENTITIES = NAME_LISTS + READ_ONLY + TRANSACTIONS
# The path segment of each entity (``/v3/company/{realm}/invoice``), and back.
PATHS = {name.lower(): name for name in ENTITIES}
NAME_FIELD = {"Customer": "DisplayName", "Vendor": "DisplayName"}
SHARED_NAMES = {"Customer": "people", "Vendor": "people"}  # one namespace for customers and vendors
META_KEYS = ("domain", "sparse", "Id", "SyncToken", "MetaData")
ITEM_TYPES = ("Service", "NonInventory", "Inventory")


def name_field(entity: str) -> str:
    return NAME_FIELD.get(entity, "Name")


class Company:
    """A realm's data. Not locked: the fake's lock covers it."""

    def __init__(self, realm: str, name: str, environment: str, now: datetime.datetime, *, seed: bool = True):
        self.realm = realm
        self.name = name
        self.environment = environment
        self.objects: dict[str, dict[str, dict[str, Any]]] = {entity: {} for entity in ENTITIES}
        self.tombstones: dict[str, dict[str, dict[str, Any]]] = {entity: {} for entity in ENTITIES}
        self.changed_at: dict[tuple[str, str], datetime.datetime] = {}
        self.requestids: dict[str, tuple[int, dict[str, Any]]] = {}
        self.voided: set[tuple[str, str]] = set()
        self.counters: dict[str, int] = dict(fake_data.FIRST_IDS)
        self.txn_counter = fake_data.FIRST_TXN_ID
        self.address_counter = fake_data.FIRST_ADDRESS_ID
        self.refuse_duplicate_doc_numbers = True
        self.default_tax_code = fake_data.DEFAULT_TAX_CODE
        if seed:
            self._seed(now)

    # --- ids ------------------------------------------------------------------------------------

    def next_id(self, entity: str) -> str:
        if entity in TRANSACTIONS:
            self.txn_counter += 1
            return str(self.txn_counter - 1)
        value = self.counters.get(entity, fake_data.FIRST_LIST_ID)
        self.counters[entity] = value + 1
        return str(value)

    def address(self, address: Any) -> dict[str, Any]:
        """An address as stored: a copy, with the ``Id`` QuickBooks gives it (kept when it has one)."""
        if not isinstance(address, dict):
            raise bad_request("An address must be an object")
        stored = dict(address)
        if not stored.get("Id"):
            stored["Id"] = str(self.address_counter)
            self.address_counter += 1
        return stored

    # --- objects --------------------------------------------------------------------------------

    def find(self, entity: str, object_id: Any) -> dict[str, Any] | None:
        return self.objects.get(entity, {}).get(str(object_id))

    def all(self, entity: str) -> list[dict[str, Any]]:
        return sorted(self.objects.get(entity, {}).values(), key=lambda o: _id_key(o["Id"]))

    def put(self, entity: str, obj: dict[str, Any], now: datetime.datetime) -> None:
        self.objects[entity][obj["Id"]] = obj
        self.changed_at[(entity, obj["Id"])] = now

    def bury(self, entity: str, object_id: str, now: datetime.datetime) -> dict[str, Any]:
        """Delete an object: gone from reads and queries, a tombstone for CDC."""
        obj = self.objects[entity].pop(object_id)
        tombstone = {
            "domain": "QBO",
            "status": "Deleted",
            "Id": object_id,
            "MetaData": {"CreateTime": obj["MetaData"]["CreateTime"], "LastUpdatedTime": qbo_time(now)},
        }
        self.tombstones[entity][object_id] = tombstone
        self.changed_at[(entity, object_id)] = now
        return tombstone

    def ref(self, entity: str, ref: Any, element: str, *, active: bool = True) -> dict[str, Any]:
        """The object a reference names (610 when it is missing, or inactive and ``active``)."""
        value = ref.get("value") if isinstance(ref, dict) else None
        if value in (None, ""):
            raise required(element)
        obj = self.find(entity, value)
        if obj is None or (active and obj.get("Active") is False):
            raise not_found(element)
        return obj

    def named_ref(self, entity: str, ref: Any, element: str) -> dict[str, Any]:
        """A reference as QuickBooks answers it: ``{"value", "name"}`` of a live object."""
        obj = self.ref(entity, ref, element)
        return {"value": obj["Id"], "name": display_name(entity, obj)}

    def check_unique(self, entity: str, name: str, own_id: str | None) -> None:
        """6240 when another object of the namespace has ``name`` (case-insensitive, inactive too)."""
        space = SHARED_NAMES.get(entity)
        entities: Iterable[str] = [e for e, s in SHARED_NAMES.items() if s == space] if space else [entity]
        wanted = name.strip().casefold()
        for other in entities:
            for obj in self.objects[other].values():
                if obj["Id"] == own_id and other == entity:
                    continue
                if str(obj.get(name_field(other), "")).strip().casefold() == wanted:
                    raise duplicate_name(entity)

    # --- the seed ---------------------------------------------------------------------------------

    def _seed(self, now: datetime.datetime) -> None:
        def add(entity: str, object_id: str, fields: Mapping[str, Any]) -> None:
            obj = {
                **fields,
                "domain": "QBO",
                "sparse": False,
                "Id": object_id,
                "SyncToken": "0",
                "MetaData": {"CreateTime": qbo_time(now), "LastUpdatedTime": qbo_time(now)},
            }
            self.put(entity, obj, now)

        for account_id, (name, kind, sub_type, classification) in fake_data.ACCOUNTS.items():
            add("Account", account_id, account_fields(name, kind, sub_type, classification))
        for rate_id, (name, rate, agency) in fake_data.TAX_RATES.items():
            add(
                "TaxRate",
                rate_id,
                {
                    "Name": name,
                    "Description": name,
                    "Active": True,
                    "RateValue": rate,
                    "AgencyRef": {"value": agency},
                    "SpecialTaxType": "NONE",
                    "DisplayType": "ReadOnly",
                },
            )
        for code_id, (code_name, code_rate, taxable) in fake_data.TAX_CODES.items():
            fields: dict[str, Any] = {
                "Name": code_name,
                "Description": code_name,
                "Active": True,
                "Taxable": taxable,
            }
            fields["TaxGroup"] = code_rate is not None
            fields["SalesTaxRateList"] = {
                "TaxRateDetail": (
                    [{"TaxRateRef": {"value": code_rate, "name": fake_data.TAX_RATES[code_rate][0]}}]
                    if code_rate
                    else []
                )
            }
            fields["PurchaseTaxRateList"] = {"TaxRateDetail": []}
            add("TaxCode", code_id, fields)
        for method_id, (name, kind) in fake_data.PAYMENT_METHODS.items():
            add("PaymentMethod", method_id, {"Name": name, "Active": True, "Type": kind})
        for term_id, (name, days) in fake_data.TERMS.items():
            add("Term", term_id, {"Name": name, "Active": True, "Type": "STANDARD", "DueDays": days})
        for class_id, name in fake_data.CLASSES.items():
            add(
                "Class",
                class_id,
                {"Name": name, "SubClass": False, "FullyQualifiedName": name, "Active": True},
            )
        for department_id, name in fake_data.DEPARTMENTS.items():
            add(
                "Department",
                department_id,
                {"Name": name, "SubDepartment": False, "FullyQualifiedName": name, "Active": True},
            )


def _id_key(object_id: str) -> tuple[int, str]:
    return (int(object_id), "") if object_id.isdigit() else (1 << 62, object_id)


def display_name(entity: str, obj: Mapping[str, Any]) -> str:
    return str(obj.get(name_field(entity)) or obj.get("Name") or obj.get("DisplayName") or "")


def account_fields(name: str, kind: str, sub_type: str, classification: str) -> dict[str, Any]:
    return {
        "Name": name,
        "SubAccount": False,
        "FullyQualifiedName": name,
        "Active": True,
        "Classification": classification,
        "AccountType": kind,
        "AccountSubType": sub_type,
        "CurrentBalance": 0,
        "CurrentBalanceWithSubAccounts": 0,
        "CurrencyRef": dict(USD),
    }


# --- the name lists --------------------------------------------------------------------------------


def prepare_name(company: Company, entity: str, body: dict[str, Any], own_id: str | None) -> dict[str, Any]:
    """A name-list object from a create or update body (without the meta keys), or a fault."""
    if entity in ("Customer", "Vendor"):
        return _person(company, entity, body, own_id)
    if entity == "Item":
        return _item(company, body, own_id)
    fields = dict(body)
    name = str(fields.get("Name") or "").strip()
    if not name:
        raise required("Name")
    company.check_unique(entity, name, own_id)
    fields.setdefault("Active", True)
    if entity == "Account":
        kind = fields.get("AccountType")
        if not kind:
            raise required("AccountType")
        defaults = account_fields(name, str(kind), str(fields.get("AccountSubType") or ""), "")
        defaults.pop("Classification")
        for key, value in defaults.items():
            fields.setdefault(key, value)
    elif entity == "Term":
        fields.setdefault("Type", "STANDARD")
        fields.setdefault("DueDays", 0)
    elif entity in ("Class", "Department"):
        fields.setdefault("FullyQualifiedName", name)
        fields.setdefault("Sub" + entity, False)
    return fields


def _person(company: Company, entity: str, body: dict[str, Any], own_id: str | None) -> dict[str, Any]:
    fields = dict(body)
    name = str(fields.get("DisplayName") or "").strip()
    if not name:
        parts = [fields.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
        name = " ".join(str(p).strip() for p in parts if p) or str(fields.get("CompanyName") or "").strip()
        if not name:
            raise required("DisplayName")
        fields["DisplayName"] = name
    company.check_unique(entity, name, own_id)
    for key in ("BillAddr", "ShipAddr"):
        if fields.get(key) is not None:
            fields[key] = company.address(fields[key])
    if fields.get("SalesTermRef") is not None:
        fields["SalesTermRef"] = company.named_ref("Term", fields["SalesTermRef"], "SalesTermRef")
    if fields.get("TermRef") is not None:
        fields["TermRef"] = company.named_ref("Term", fields["TermRef"], "TermRef")
    if fields.get("PaymentMethodRef") is not None:
        fields["PaymentMethodRef"] = company.named_ref(
            "PaymentMethod", fields["PaymentMethodRef"], "PaymentMethodRef"
        )
    print_name = fields.get("CompanyName") or name
    defaults: dict[str, Any] = {"FullyQualifiedName": name} if entity == "Customer" else {}
    defaults["PrintOnCheckName"] = print_name
    defaults["Active"] = True
    if entity == "Customer":
        defaults.update(
            {
                "Taxable": True,
                "Job": False,
                "BillWithParent": False,
                "Balance": 0,
                "BalanceWithJobs": 0,
                "CurrencyRef": dict(USD),
                "PreferredDeliveryMethod": "Print",
                "IsProject": False,
                "ClientEntityId": "0",
                "V4IDPseudonym": "00" + secrets.token_hex(19),
            }
        )
    else:
        defaults.update({"Vendor1099": False, "Balance": 0, "CurrencyRef": dict(USD)})
    for key, value in defaults.items():
        fields.setdefault(key, value)
    if entity == "Customer":
        fields["FullyQualifiedName"] = name
    return fields


def _item(company: Company, body: dict[str, Any], own_id: str | None) -> dict[str, Any]:
    fields = dict(body)
    name = str(fields.get("Name") or "").strip()
    if not name:
        raise required("Name")
    company.check_unique("Item", name, own_id)
    kind = fields.setdefault("Type", "NonInventory")
    if kind not in ITEM_TYPES:
        raise QBOFault(
            "2170",
            "Invalid Enumeration",
            f"Invalid Enumeration : {kind} is not a valid Type of Item (Service, NonInventory, Inventory)",
            element="Type",
        )
    if fields.get("IncomeAccountRef") is None:
        raise required("IncomeAccountRef")
    refs = ["IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"]
    if kind == "Inventory":
        for key in ("ExpenseAccountRef", "AssetAccountRef", "InvStartDate"):
            if fields.get(key) in (None, ""):
                raise required(key)
        fields.setdefault("TrackQtyOnHand", True)
        fields.setdefault("QtyOnHand", 0)
    for key in refs:
        if fields.get(key) is not None:
            fields[key] = company.named_ref("Account", fields[key], key)
    for key in ("SalesTaxCodeRef", "PurchaseTaxCodeRef"):
        if fields.get(key) is not None:
            company.ref("TaxCode", fields[key], key)
    fields.setdefault("Active", True)
    defaults: dict[str, Any] = {
        "FullyQualifiedName": name,
        "SubItem": False,
        "SalesTaxIncluded": False,
        "PurchaseTaxIncluded": False,
    }
    if kind == "Inventory" and fields.get("Description") is not None:
        defaults["PurchaseDesc"] = fields["Description"]
    for key, value in defaults.items():
        fields.setdefault(key, value)
    fields["FullyQualifiedName"] = name
    return fields


def strip_meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    """An object's fields without the keys QuickBooks keeps itself (for a sparse merge)."""
    return {k: copy.deepcopy(v) for k, v in obj.items() if k not in META_KEYS}
