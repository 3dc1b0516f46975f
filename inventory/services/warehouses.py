"""Writes of warehouses and their location trees."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery

from erp.exceptions import ValidationFailed
from inventory.locks import levels_locked_in_order
from inventory.models import Location, LocationKind, Warehouse
from inventory.models.stock import VIRTUAL_KINDS

VIRTUAL_PATHS = {
    LocationKind.SUPPLIER: "Partners/Suppliers",
    LocationKind.CUSTOMER: "Partners/Customers",
    LocationKind.PRODUCTION: "Virtual/Production",
    LocationKind.ADJUSTMENT: "Virtual/Inventory adjustment",
    LocationKind.SCRAP: "Virtual/Scrap",
    LocationKind.TRANSIT: "Virtual/Transit",
}


def virtual_location(kind: LocationKind | str) -> Location:
    """The one virtual location of a kind (created by a migration; recreated if missing)."""
    kind = LocationKind(kind)
    if kind not in VIRTUAL_KINDS:
        raise ValueError(f"{kind} is not a virtual location kind")
    path = VIRTUAL_PATHS[kind]
    location, _ = Location.objects.get_or_create(
        kind=kind, warehouse=None, defaults={"name": path.split("/")[-1], "path": path}
    )
    return location


def _path(parent: Location | None, name: str, warehouse: Warehouse) -> str:
    return f"{parent.path}/{name}" if parent else warehouse.code


@transaction.atomic
def warehouse_create(
    *, code: str, name: str, address: str = "", allow_negative_stock: bool = False, user: Any = None
) -> Warehouse:
    """A warehouse with its root zone and a default `Stock` bin."""
    code = code.strip().upper()
    if not code or not code.replace("-", "").replace("_", "").isalnum():
        raise ValidationFailed(
            "A warehouse code is letters and digits, like WH1.", field_errors={"code": ["Invalid code."]}
        )
    if Warehouse.objects.filter(code=code).exists():
        raise ValidationFailed(f"Warehouse {code} exists already.", field_errors={"code": ["Already used."]})
    actor = user if getattr(user, "is_authenticated", False) else None
    warehouse = Warehouse.objects.create(
        code=code,
        name=name.strip() or code,
        address=address,
        allow_negative_stock=allow_negative_stock,
        created_by=actor,
        updated_by=actor,
    )
    root = Location.objects.create(warehouse=warehouse, name=code, kind=LocationKind.VIEW, path=code)
    Location.objects.create(
        warehouse=warehouse, parent=root, name="Stock", kind=LocationKind.INTERNAL, path=f"{code}/Stock"
    )
    return warehouse


def warehouse_root(warehouse: Warehouse) -> Location:
    return Location.objects.get(warehouse=warehouse, parent__isnull=True)


def warehouse_default_location(warehouse: Warehouse) -> Location:
    """Where stock goes when no bin is named: the `Stock` bin, else the first internal one."""
    locations = Location.objects.select_related("warehouse").filter(
        warehouse=warehouse, kind=LocationKind.INTERNAL, is_active=True
    )
    return locations.filter(name="Stock").first() or locations.order_by("path").first() or _missing(warehouse)


def _missing(warehouse: Warehouse) -> Location:
    raise ValidationFailed(f"Warehouse {warehouse.code} has no active bin to hold stock.")


@transaction.atomic
def warehouse_update(*, warehouse: Warehouse, user: Any = None, **changes: Any) -> Warehouse:
    allowed = {"name", "address", "allow_negative_stock", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(f"Cannot change: {', '.join(sorted(unknown))}.")
    warehouse = Warehouse.objects.select_for_update().get(pk=warehouse.pk)
    for name, value in changes.items():
        setattr(warehouse, name, value)
    warehouse.updated_by = user if getattr(user, "is_authenticated", False) else None
    warehouse.save()
    return warehouse


def location_errors(
    *, parent: Location | None, name: str, kind: str, barcode: str | None = None
) -> dict[str, list[str]]:
    """What is wrong with a new location, per field (none: it can be created). Django admin's
    add form shows these beside its fields."""
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name or "/" in name:
        errors["name"] = ["A name without '/' is required."]
    if parent is None:
        errors["parent"] = ["A location goes under a zone of a warehouse."]
    elif parent.kind != LocationKind.VIEW:
        errors["parent"] = [f"{parent} is a bin; locations go under a zone."]
    if kind not in (LocationKind.INTERNAL, LocationKind.VIEW):
        errors["kind"] = ["A warehouse location is a zone (view) or a bin (internal)."]
    if not errors and Location.objects.filter(parent=parent, name=name).exists():
        assert parent is not None
        errors["name"] = [f"{parent.path}/{name} exists already."]
    if barcode and Location.objects.filter(barcode=barcode).exists():
        errors["barcode"] = [f"Barcode {barcode} is used by another location."]
    return errors


@transaction.atomic
def location_create(
    *, parent: Location, name: str, kind: str = LocationKind.INTERNAL, barcode: str | None = None
) -> Location:
    """A zone (view) or bin (internal) under a zone of the same warehouse, its path set."""
    errors = location_errors(parent=parent, name=name, kind=kind, barcode=barcode)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], field_errors=errors)
    name = name.strip()
    assert parent.warehouse is not None
    return Location.objects.create(
        warehouse=parent.warehouse,
        parent=parent,
        name=name,
        kind=kind,
        barcode=barcode or None,
        path=_path(parent, name, parent.warehouse),
    )


@transaction.atomic
def location_update(
    *, location: Location, name: str | None = None, barcode: str | None = None, is_active: bool | None = None
) -> Location:
    if location.is_virtual:
        raise ValidationFailed("Virtual locations cannot be changed.")
    location = Location.objects.select_for_update().get(pk=location.pk)
    if is_active is False and location.levels.exclude(on_hand=0).exists():
        raise ValidationFailed(f"{location} still holds stock; move it out before archiving.")
    if barcode is not None:
        if barcode and Location.objects.filter(barcode=barcode).exclude(pk=location.pk).exists():
            raise ValidationFailed(f"Barcode {barcode} is used by another location.")
        location.barcode = barcode or None
    if is_active is not None:
        location.is_active = is_active
    renamed = False
    if name is not None and name.strip() != location.name:
        name = name.strip()
        if not name or "/" in name:
            raise ValidationFailed("A name without '/' is required.")
        if Location.objects.filter(parent=location.parent, name=name).exclude(pk=location.pk).exists():
            raise ValidationFailed(f"A sibling named {name} exists already.")
        old_path = location.path
        location.name = name
        assert location.warehouse is not None
        location.path = _path(location.parent, name, location.warehouse)
        # Locked (as the location is): a level being created in one of them meanwhile either
        # waits for this rename, or this rename waits for it and then rewrites its path below.
        descendants = list(
            Location.objects.select_for_update()
            .filter(warehouse=location.warehouse, path__startswith=f"{old_path}/")
            .order_by("pk")
        )
        for child in descendants:
            child.path = location.path + child.path[len(old_path) :]
        Location.objects.bulk_update(descendants, ["path"])
        renamed = True
    location.save()
    if renamed:  # the levels' copy of each new path, their list's sort (StockLevel.location_path)
        subtree = Q(pk=location.pk) | Q(warehouse=location.warehouse, path__startswith=f"{location.path}/")
        path = Location.objects.filter(pk=OuterRef("location_id")).order_by().values("path")[:1]
        levels_locked_in_order(Q(location__in=Location.objects.filter(subtree))).update(
            location_path=Subquery(path)
        )
    return location
