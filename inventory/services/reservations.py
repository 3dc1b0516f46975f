"""Reservations: stock held for a demand, released or consumed explicitly."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from erp import formatting, statements
from erp.exceptions import ValidationFailed
from erp.money import ZERO, quantize_quantity
from inventory.exceptions import InsufficientStock, InvalidStockOperation
from inventory.ledger import NO_DOCUMENT, Document, MoveSpec, ReservedDelta, post, post_reserved_on_locked
from inventory.locks import lock_levels_of_products_in_warehouse, lock_reservations
from inventory.models import (
    Location,
    LocationKind,
    Lot,
    MoveKind,
    Product,
    Reservation,
    ReservationStatus,
    StockLevel,
    StockMove,
    Warehouse,
)
from inventory.services.warehouses import virtual_location


@dataclass(frozen=True)
class Demand:
    """What a reservation serves: Demand("sales.orderline", 17, "SO-00042")."""

    type: str
    id: str | int
    reference: str = ""

    @property
    def pk(self) -> int | None:
        """The id as a number when it is one (stored typed, for joins without casts)."""
        return demand_pk(self.id)


MAX_DEMAND_PK = 2**63 - 1


def demand_pk(demand_id: str | int) -> int | None:
    """``17`` and ``"17"`` -> 17; ``"A-1001"``, ``"017"`` and numbers beyond a bigint -> None."""
    text = str(demand_id)
    if not text.isascii() or not text.isdigit() or (len(text) > 1 and text[0] == "0"):
        return None
    number = int(text)
    return number if number <= MAX_DEMAND_PK else None


def _pick_order(level: StockLevel) -> tuple[Any, ...]:
    """First expiring lot first (FEFO), then the bin's path."""
    expiry = level.lot.expiry_date if level.lot else None
    return (expiry is None, expiry or "", level.location.path, level.pk)


@dataclass(frozen=True)
class ReserveRequest:
    """One demand's quantity of a product, for ``stock_reserve_many``."""

    product: Product
    quantity: Decimal | str | int
    demand: Demand


@transaction.atomic
def stock_reserve(
    *,
    product: Product,
    warehouse: Warehouse,
    quantity: Decimal | str | int,
    demand: Demand,
    location: Location | None = None,
    lot: Lot | None = None,
    allow_partial: bool = False,
    user: Any = None,
) -> list[Reservation]:
    """Hold available stock of a warehouse (or one bin of it) for a demand.

    Takes from the first-expiring lots first. Without ``allow_partial`` the whole
    quantity is reserved or nothing is (InsufficientStock); with it, what is
    available is reserved and the rest is left to the caller (a backorder).
    """
    return _reserve(
        warehouse,
        [ReserveRequest(product, quantity, demand)],
        location=location,
        lot=lot,
        allow_partial=allow_partial,
        user=user,
    )[0]


@transaction.atomic(savepoint=False)
def stock_reserve_many(
    *, warehouse: Warehouse, requests: Sequence[ReserveRequest], allow_partial: bool = False, user: Any = None
) -> list[list[Reservation]]:
    """Reserve for several demands at once (an order's lines): what ``stock_reserve`` does for each,
    in the order given, in a constant number of statements: one lock of all the levels involved,
    one UPDATE of them, one INSERT of the reservations (and the level events, batched by the
    caller's ``erp.events.batched()``). Returns each request's reservations, in order.

    No savepoint of its own (it would cost two statements): a refusal (a service, a quantity that
    is not positive, InsufficientStock without ``allow_partial``) ends the caller's transaction.
    """
    return _reserve(warehouse, requests, allow_partial=allow_partial, user=user)


def _reserve(
    warehouse: Warehouse,
    requests: Sequence[ReserveRequest],
    *,
    location: Location | None = None,
    lot: Lot | None = None,
    allow_partial: bool,
    user: Any,
) -> list[list[Reservation]]:
    wanted: list[Decimal] = []
    for request in requests:
        quantity = quantize_quantity(request.quantity)
        if quantity <= 0:
            raise ValidationFailed(
                "Quantity must be positive.", field_errors={"quantity": ["Must be positive."]}
            )
        if not request.product.is_stocked:
            raise InvalidStockOperation(f"{request.product.sku} is a service: it cannot be reserved.")
        wanted.append(quantity)
    if not requests:
        return []
    locked = lock_levels_of_products_in_warehouse([r.product.pk for r in requests], warehouse.pk)
    for level in locked:
        level.location.warehouse = warehouse  # for the checks of the ledger, without a query
    by_product: dict[int, list[StockLevel]] = defaultdict(list)
    for level in sorted(locked, key=_pick_order):
        if (location is None or level.location_id == location.pk) and (lot is None or level.lot_id == lot.pk):
            by_product[level.product_id].append(level)
    taken: dict[int, Decimal] = defaultdict(lambda: ZERO)  # per level: held by earlier requests of this call
    changes: list[tuple[StockLevel, Product, Decimal]] = []
    rows: list[list[Reservation]] = []
    for request, quantity in zip(requests, wanted, strict=True):
        product, demand = request.product, request.demand
        levels = by_product.get(product.pk, [])
        free = {lv.pk: max(lv.on_hand - lv.reserved - taken[lv.pk], ZERO) for lv in levels}
        available = sum(free.values(), ZERO)
        if available < quantity and not allow_partial:
            where = str(location) if location else f"warehouse {warehouse.code}"
            raise InsufficientStock(sku=product.sku, location=where, requested=quantity, available=available)
        remaining = quantity
        held: list[Reservation] = []
        for level in levels:
            if remaining <= 0:
                break
            take = min(free[level.pk], remaining)
            if take <= 0:
                continue
            remaining -= take
            taken[level.pk] += take
            changes.append((level, product, take))
            held.append(
                Reservation(
                    product=product,
                    location=level.location,
                    lot=level.lot,
                    quantity=take,
                    demand_type=demand.type,
                    demand_id=str(demand.id),
                    demand_pk=demand.pk,
                    reference=demand.reference,
                    user=user if getattr(user, "is_authenticated", False) else None,
                )
            )
        rows.append(held)
    if not changes:
        return rows
    post_reserved_on_locked(changes, locked=locked)
    statements.insert([r for held in rows for r in held])  # sets each pk; its SQL built once per size
    return rows


def _locked_active(reservation: Reservation) -> Reservation:
    locked = lock_reservations([reservation.pk]).get(reservation.pk)
    if locked is None:
        raise ValidationFailed(f"Reservation {reservation.pk} does not exist.")
    if locked.status != ReservationStatus.ACTIVE:
        raise InvalidStockOperation(f"Reservation {locked.pk} is {locked.status}; nothing is held any more.")
    return locked


def _load(reservation: Reservation) -> Reservation:
    return Reservation.objects.select_related("product__stock_unit", "location__warehouse", "lot").get(
        pk=reservation.pk
    )


@transaction.atomic
def reservation_release(
    *, reservation: Reservation, quantity: Decimal | str | int | None = None, user: Any = None
) -> Reservation:
    """Give back all (or ``quantity`` of) the held stock."""
    held = _locked_active(reservation)
    full = _load(held)
    release = held.quantity if quantity is None else quantize_quantity(quantity)
    if release <= 0 or release > held.quantity:
        raise ValidationFailed(
            f"Can release between 0 and {formatting.number(held.quantity)}, not {formatting.number(release)}."
        )
    post(
        reserved=[ReservedDelta(product=full.product, location=full.location, lot=full.lot, delta=-release)],
        user=user,
    )
    held.quantity -= release
    held.released_quantity += release
    if held.quantity == 0:
        held.status = ReservationStatus.RELEASED
    held.save(update_fields=["quantity", "released_quantity", "status", "updated_at"])
    return held


@transaction.atomic
def reservations_release_for_demand(*, demand_type: str, demand_id: str | int, user: Any = None) -> int:
    """Release everything still held for a demand (an order cancelled). Returns how many."""
    number = demand_pk(demand_id)
    of_demand: dict[str, int | str] = (
        {"demand_pk": number} if number is not None else {"demand_id": str(demand_id)}
    )
    pks = list(
        Reservation.objects.filter(
            demand_type=demand_type, status=ReservationStatus.ACTIVE, **of_demand
        ).values_list("pk", flat=True)
    )
    locked = lock_reservations(pks)
    active = [r for r in locked.values() if r.status == ReservationStatus.ACTIVE]
    if not active:
        return 0
    loaded = {
        r.pk: r
        for r in Reservation.objects.select_related("product", "location__warehouse", "lot").filter(
            pk__in=[r.pk for r in active]
        )
    }
    post(
        reserved=[
            ReservedDelta(
                product=loaded[r.pk].product,
                location=loaded[r.pk].location,
                lot=loaded[r.pk].lot,
                delta=-r.quantity,
            )
            for r in active
        ],
        user=user,
    )
    for r in active:
        r.released_quantity += r.quantity
        r.quantity = ZERO
        r.status = ReservationStatus.RELEASED
    Reservation.objects.bulk_update(active, ["quantity", "released_quantity", "status", "updated_at"])
    return len(active)


@transaction.atomic
def reservation_consume(
    *,
    reservation: Reservation,
    quantity: Decimal | str | int | None = None,
    destination: LocationKind = LocationKind.CUSTOMER,
    document: Document = NO_DOCUMENT,
    user: Any = None,
) -> StockMove:
    """Issue held stock (a shipment picking it, production consuming it)."""
    held = _locked_active(reservation)
    full = _load(held)
    take = held.quantity if quantity is None else quantize_quantity(quantity)
    if take <= 0 or take > held.quantity:
        raise ValidationFailed(
            f"Can consume between 0 and {formatting.number(held.quantity)}, not {formatting.number(take)}."
        )
    kind = MoveKind.CONSUMPTION if destination == LocationKind.PRODUCTION else MoveKind.ISSUE
    spec = MoveSpec(
        product=full.product,
        quantity=take,
        from_location=full.location,
        to_location=virtual_location(destination),
        lot=full.lot,
        kind=kind,
        consume_reserved=take,
        document=document,
    )
    move = post([spec], user=user).moves[0]
    held.quantity -= take
    held.consumed_quantity += take
    if held.quantity == 0:
        held.status = ReservationStatus.CONSUMED
    held.save(update_fields=["quantity", "consumed_quantity", "status", "updated_at"])
    return move
