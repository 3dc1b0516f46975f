"""The fake QuickBooks' companies as plain JSON, for the simulated day's drift check
(``FakeQuickBooks.snapshot``)::

    {"tool": "quickbooks", "at": "<iso now>",
     "realms": {"<realmId>": {
         "name": str, "environment": "production" | "sandbox",
         "entities": {"<Entity>": {"<Id>": {...the object as GET answers it...}}},
         "deleted": {"<Entity>": ["<Id>", ...]},
         "voided": {"<Entity>": ["<Id>", ...]},
         "open_receivables": float,   # the sum of the invoices' Balance
         "open_payables": float}}}    # the sum of the bills' Balance

Entities with no objects are left out; seeded lists (accounts, tax codes ...) are included, so a
drift check can read a mapping's target too.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from integrations.quickbooks.fake_company import Company


def _sum(objects: Iterable[dict[str, Any]]) -> float:
    return float(sum((Decimal(str(o.get("Balance", 0))) for o in objects), Decimal(0)))


def company_snapshot(company: Company) -> dict[str, Any]:
    return {
        "name": company.name,
        "environment": company.environment,
        "entities": {
            entity: {obj["Id"]: copy.deepcopy(obj) for obj in company.all(entity)}
            for entity in company.objects
            if company.objects[entity]
        },
        "deleted": {entity: sorted(t) for entity, t in company.tombstones.items() if t},
        "voided": {
            entity: sorted(i for e, i in company.voided if e == entity)
            for entity in sorted({e for e, _ in company.voided})
        },
        "open_receivables": _sum(company.objects["Invoice"].values()),
        "open_payables": _sum(company.objects["Bill"].values()),
    }


def quickbooks_snapshot(now: datetime.datetime, companies: Iterable[Company]) -> dict[str, Any]:
    return {
        "tool": "quickbooks",
        "at": now.isoformat(),
        "realms": {company.realm: company_snapshot(company) for company in companies},
    }
