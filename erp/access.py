"""Areas, scopes and roles: who may read or write what, in the UI and the API.

Each business area has two permissions, ``erp.<area>_read`` and
``erp.<area>_write`` (write implies read). Roles are Django groups holding
those permissions; API keys carry scopes ``<area>:read`` / ``<area>:write``,
and a key acts with the intersection of its scopes and its owner's rights. A key
needs ``keys:write`` to create or revoke keys through the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from django.contrib.auth.models import AbstractUser, AnonymousUser

Level = Literal["read", "write"]

AREAS: dict[str, str] = {
    "inventory": "Inventory",
    "sales": "Sales",
    "procurement": "Procurement",
    "manufacturing": "Manufacturing",
    "integrations": "Integrations",
}
LEVELS: tuple[Level, ...] = ("read", "write")
ALL_SCOPES: tuple[str, ...] = tuple(f"{area}:{level}" for area in AREAS for level in LEVELS)
# Beyond the areas: a key that may create (and revoke) API keys through the API. Any user may
# give it to a key of theirs, but only by asking for it: it is never a default.
KEYS_SCOPE = "keys:write"
KNOWN_SCOPES: tuple[str, ...] = (*ALL_SCOPES, "sales:invoice", "procurement:bill", KEYS_SCOPE)


def permission_codename(area: str, level: Level) -> str:
    return f"{area}_{level}"


def permission_name(area: str, level: Level) -> str:
    return f"erp.{permission_codename(area, level)}"


# Rights beyond read and write, each a permission erp.<codename>.
SPECIAL_RIGHTS: dict[str, str] = {
    "procurement_approve": "Can approve purchase orders above the approval threshold",
    "sales_ship": "Can ship sales orders (pick reserved stock and issue it) without editing them",
    "manage_api_keys": "Can see and revoke the API keys of every user",
    "sales_invoice": "Can invoice sales orders, issue and void invoices, record payments and refunds",
    "procurement_bill": "Can record, approve and void supplier bills and record bill payments",
}

# The rights that let a user write part of an area without its write right (separation of duties:
# who books money is not who makes orders). An API key carries each as a scope of its own
# (``sales:invoice``, ``procurement:bill``); the area's write scope covers it too.
RIGHT_SCOPES: dict[str, str] = {
    "sales_invoice": "sales:invoice",
    "procurement_bill": "procurement:bill",
}


def area_permissions() -> list[tuple[str, str]]:
    """(codename, name) pairs for the Meta.permissions of erp.AreaAccess."""
    return [
        (permission_codename(area, level), f"Can {level} {label.lower()}")
        for area, label in AREAS.items()
        for level in LEVELS
    ] + list(SPECIAL_RIGHTS.items())


def user_has_right(user: AbstractUser | AnonymousUser, right: str) -> bool:
    if right not in SPECIAL_RIGHTS:
        raise ValueError(f"Unknown right {right!r}")
    return bool(user.is_authenticated and user.is_active and user.has_perm(f"erp.{right}"))


def user_can(user: AbstractUser | AnonymousUser, area: str, level: Level) -> bool:
    """Write implies read."""
    if not user.is_authenticated or not user.is_active:
        return False
    if level == "read" and user.has_perm(permission_name(area, "write")):
        return True
    return bool(user.has_perm(permission_name(area, level)))


def user_can_or_has(user: AbstractUser | AnonymousUser, area: str, right: str) -> bool:
    """The area's write right, or the narrower special right (``sales_invoice`` within sales)."""
    return user_can(user, area, "write") or user_has_right(user, right)


def scopes_allowed(user: AbstractUser | AnonymousUser) -> list[str]:
    areas = [f"{area}:{level}" for area in AREAS for level in LEVELS if user_can(user, area, level)]
    rights = [scope for right, scope in RIGHT_SCOPES.items() if user_has_right(user, right)]
    return areas + [scope for scope in rights if not scope_covered(areas, scope)]  # write covers them


def scopes_grantable(user: AbstractUser | AnonymousUser) -> list[str]:
    """What a user may give a key of theirs: their areas' scopes, and keys:write."""
    allowed = scopes_allowed(user)
    return [*allowed, KEYS_SCOPE] if allowed else []


def validate_scopes(scopes: Iterable[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(KNOWN_SCOPES))
    if unknown:
        raise ValueError(f"Unknown scope(s): {', '.join(unknown)}. Known scopes: {', '.join(KNOWN_SCOPES)}.")
    return [s for s in KNOWN_SCOPES if s in set(scopes)]


def scope_grants(scopes: Iterable[str], area: str, level: Level) -> bool:
    held = set(scopes)
    return f"{area}:{level}" in held or (level == "read" and f"{area}:write" in held)


def scope_covered(scopes: Iterable[str], scope: str) -> bool:
    """Whether holding ``scopes`` covers ``scope`` (write covers read)."""
    area, _, level = scope.partition(":")
    if area in AREAS and level in LEVELS:
        return scope_grants(scopes, area, level)  # type: ignore[arg-type]
    if scope in RIGHT_SCOPES.values() and f"{area}:write" in set(scopes):
        return True  # the area's write covers its narrower rights
    return scope in set(scopes)


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    grants: dict[str, Level]
    rights: tuple[str, ...] = ()  # special rights (SPECIAL_RIGHTS) on top of the area levels


_READ_ALL_DOMAIN: dict[str, Level] = {
    "inventory": "read",
    "sales": "read",
    "procurement": "read",
    "manufacturing": "read",
}

ROLES: tuple[Role, ...] = (
    Role(
        "Operations manager",
        "Runs the operation: writes in every business area, reads integrations.",
        {
            "inventory": "write",
            "sales": "write",
            "procurement": "write",
            "manufacturing": "write",
            "integrations": "read",
        },
    ),
    Role(
        "Warehouse",
        "Receives, moves, counts, picks and ships stock.",
        {**_READ_ALL_DOMAIN, "inventory": "write"},
        rights=("sales_ship",),
    ),
    Role(
        "Sales",
        "Customers, orders, shipments and returns.",
        {"inventory": "read", "sales": "write"},
    ),
    Role(
        "Purchasing",
        "Suppliers, purchase orders, receipts and replenishment.",
        {"inventory": "read", "procurement": "write", "sales": "read"},
    ),
    Role(
        "Purchasing manager",
        "Purchasing, plus approval of purchase orders above the threshold.",
        {"inventory": "read", "procurement": "write", "sales": "read"},
        rights=("procurement_approve",),
    ),
    Role(
        "Production",
        "Bills of materials, manufacturing orders and planning.",
        {"inventory": "read", "procurement": "read", "manufacturing": "write"},
    ),
    Role(
        "Accountant",
        "Invoices, credit notes, payments, refunds, bills and bill payments, and valuation; reads"
        " everything else and makes no orders (separation of duties: docs/roles.md).",
        dict(_READ_ALL_DOMAIN),
        rights=("sales_invoice", "procurement_bill"),
    ),
    Role(
        "Integration admin",
        "Configures connections and API access; reads every business area.",
        {**_READ_ALL_DOMAIN, "integrations": "write"},
        rights=("manage_api_keys",),
    ),
)
