"""The order history of the sales demo: orders written through the services, oldest first, each steered
to its target state, then a few returns.

Every step is written on its own date (``erp.clock.effective``): an order is confirmed minutes or
hours after it is placed, shipped one to three days later (a few are late, up to a week more; the
store's sales at once), invoiced when shipped (wholesale when confirmed), paid then or by the
customer's terms; returns come back days after the shipment. Nothing is dated after now.

Stock: the orders take only what was in the warehouse on their date. What inventory's and
procurement's demos wrote before the orders but dated after them (purchase receipts) is not
offered to an earlier order (``_later``), and a short line (a backorder) is only made of products
nothing arrives for later; so no bin is ever short in the dated order of events (receipts land in
the warehouse's Stock bin, which the reservations take from last).
"""

from __future__ import annotations

import datetime
import random
from collections import Counter, defaultdict
from decimal import ROUND_CEILING, Decimal

from django.db.models import Max
from django.utils import timezone

from erp import clock
from erp.money import ZERO
from inventory import availability
from inventory.models import LocationKind, Product, ProductKind, StockMove, Tracking
from sales.demo.masterdata import user_named
from sales.demo.plan import (
    BACKORDER_CANCEL,
    CANCEL_REASONS,
    CARRIERS,
    CHANNELS,
    EXTRAS,
    FOOD,
    HOLD_REASONS,
    PREPAID,
    RECEIVED,
    RECENT_SHARE,
    REFUNDED,
    RETURN_REASONS,
    RETURNS,
    TARGETS,
    US_STATES,
    VAT,
    ChannelSpec,
    CustomerSpec,
)
from sales.filters import SHIP_WITHIN_DAYS
from sales.models import (
    Customer,
    InvoicePolicy,
    InvoiceStatus,
    OrderLine,
    OrderStatus,
    PaymentTerms,
    ReturnDisposition,
    SalesChannel,
    SalesOrder,
    Shipment,
)
from sales.selectors import reserved_by_line
from sales.services import (
    LineSpec,
    ReturnLineSpec,
    ShipLine,
    TaxSpec,
    invoice_create,
    invoice_issue,
    invoice_void,
    order_cancel,
    order_close,
    order_confirm,
    order_create,
    order_hold,
    payment_record,
    refund_record,
    return_create,
    return_receive,
    shipment_create,
)


def _tracking(rng: random.Random, kind: str) -> str:
    if kind == "ups":
        return "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16))
    if kind == "postnl":
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(4))
        return f"3S{letters}{rng.randrange(10**9):09d}"
    length = {"dhl": 10, "fedex": 12, "dpd": 14, "inpost": 24, "schenker": 10}.get(kind, 0)
    return "".join(rng.choice("0123456789") for _ in range(length))


def _usd(price: Decimal) -> Decimal:
    """The web store's dollar price of a euro list price: x1.10, ending in .99."""
    return (price * Decimal("1.10")).to_integral_value(rounding=ROUND_CEILING) - Decimal("0.01")


CONFIRMED_AFTER = {"pos": 1, "shopify": 12, "amazon": 25, "wholesale": 180, "manual": 90}  # minutes


def _family(product: Product) -> str:
    category = product.category
    while category is not None and category.parent is not None:
        category = category.parent
    return category.name if category else ""


class History:
    """Writes the orders through the services, oldest first, steering each one to its target state."""

    def __init__(
        self,
        rng: random.Random,
        channels: dict[str, SalesChannel],
        customers: dict[str, Customer],
        specs: list[CustomerSpec],
    ) -> None:
        self.rng = rng
        self.channels = channels
        self.specs = {s.code: s for s in specs}
        self.customers_of: dict[str, list[Customer]] = {}
        for spec in specs:
            if spec.name != "Walk-in customer":
                self.customers_of.setdefault(spec.channel, []).append(customers[spec.code])
        self.walk_in = next(customers[s.code] for s in specs if s.name == "Walk-in customer")
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.sales, self.accountant = user_named("sales"), user_named("accountant")
        catalog = list(
            Product.objects.filter(is_active=True)
            .exclude(stock_unit__allows_fractions=True)
            .select_related("stock_unit", "category__parent__parent")
            .order_by("sku")
        )
        stocked = [p for p in catalog if p.kind == ProductKind.STOCKED]
        self.services = {p.sku: p for p in catalog if p.kind == ProductKind.SERVICE}
        self.pools = {c.code: [p for p in stocked if _family(p) in c.families] or stocked for c in CHANNELS}
        self.available: dict[int, dict[int, Decimal]] = {}  # warehouse -> product -> available
        # warehouse -> product -> (when, quantity) that came in from outside the warehouse
        self.incoming: dict[int, dict[int, list[tuple[datetime.datetime, Decimal]]]] = {}
        self.since = self.now
        self.references: Counter[str] = Counter()
        self.terms_billed = 0

    def run(self, *, orders: int, days: int) -> None:
        """``orders`` orders over the last ``days`` days, then the returns."""
        rng = self.rng
        self.since = self.now - datetime.timedelta(days=days)
        recent = round(orders * RECENT_SHARE)
        ages = sorted(
            [
                *(rng.uniform(0, days) for _ in range(orders - recent)),
                *(rng.uniform(0, SHIP_WITHIN_DAYS) for _ in range(recent)),
            ],
            reverse=True,
        )
        for age in ages:
            spec = rng.choices(CHANNELS, weights=[c.weight for c in CHANNELS])[0]
            when = self.now - datetime.timedelta(days=age)
            if spec.code == "pos":  # the store is open from 9:00 to 18:00
                opening_hours = when.replace(hour=rng.randint(9, 17))
                when = opening_hours if opening_hours < self.now else when
            if spec.code == "pos":
                target = "cancelled" if rng.random() < 0.04 else "closed"
            else:
                fresh = age < SHIP_WITHIN_DAYS
                table = TARGETS["old" if age > 30 else "mid" if age > 7 else "fresh" if fresh else "new"]
                target = rng.choices(list(table), weights=list(table.values()))[0]
            self.order(spec, when, target)
        self.returns()

    # --- stock ---

    def _available(self, warehouse_id: int) -> dict[int, Decimal]:
        """Available per product in a warehouse: read once, then kept up to date by ``_track``."""
        if warehouse_id not in self.available:
            ids = sorted({p.pk for pool in self.pools.values() for p in pool})
            found = availability.by_warehouse(ids, warehouse_id)
            self.available[warehouse_id] = {pid: a.available for (pid, _), a in found.items()}
        return self.available[warehouse_id]

    def _later(self, warehouse_id: int, product_id: int, when: datetime.datetime) -> Decimal:
        """What came into the warehouse from outside it after ``when`` (written before the orders):
        an order of ``when`` cannot have taken it."""
        if warehouse_id not in self.incoming:
            found: dict[int, list[tuple[datetime.datetime, Decimal]]] = defaultdict(list)
            moves = (
                StockMove.objects.filter(to_location__warehouse_id=warehouse_id, created_at__gt=self.since)
                .exclude(from_location__warehouse_id=warehouse_id, from_location__kind=LocationKind.INTERNAL)
                .values_list("product_id", "created_at", "quantity")
            )
            for product_id_, created_at, quantity in moves:
                found[product_id_].append((created_at, quantity))
            self.incoming[warehouse_id] = found
        return sum((q for at, q in self.incoming[warehouse_id].get(product_id, []) if at > when), ZERO)

    def _track(self, order: SalesOrder, sign: int) -> Decimal:
        """What the order holds leaves (-1) or comes back to (+1) what is available; returns it."""
        product_of = dict(order.lines.values_list("pk", "product_id"))
        available = self._available(order.channel.warehouse_id)
        held = reserved_by_line(product_of)
        for line_id, quantity in held.items():
            available[product_of[line_id]] = available.get(product_of[line_id], ZERO) + sign * quantity
        return sum(held.values(), ZERO)

    # --- one order ---

    def _taxes(self, spec: CustomerSpec, channel: SalesChannel, product: Product) -> list[TaxSpec]:
        if channel.code == "shopify":
            rate = US_STATES.get(spec.state, ("0", []))[0]
            return [TaxSpec(f"{spec.state} sales tax", rate)] if Decimal(rate) else []
        country = spec.country if spec.country in VAT else "NL"
        standard, reduced = VAT[country]
        return [TaxSpec(f"VAT {country}", reduced if _family(product) == FOOD else standard)]

    def _lines(
        self, channel: SalesChannel, spec: CustomerSpec, *, count: int, short: bool, when: datetime.datetime
    ) -> list[LineSpec]:
        """``count`` lines that can be reserved in full with what was there on ``when``, plus, when
        ``short``, one that cannot (of a product nothing arrives for later: it is held in full)."""
        rng = self.rng
        code = channel.code
        pool = self.pools[code]
        warehouse_id = channel.warehouse_id
        available = self._available(warehouse_id)
        there = {p.pk: available.get(p.pk, ZERO) - self._later(warehouse_id, p.pk, when) for p in pool}
        plenty = [p for p in pool if there[p.pk] >= 1]
        picked = []
        for product in rng.sample(plenty, min(count, len(plenty))):
            wanted = {
                "wholesale": rng.choice([6, 6, 12, 12, 24]),
                "manual": rng.randint(1, 10),
            }.get(code) or rng.choices([1, 2, 3], weights=[70, 25, 5])[0]
            picked.append((product, max(1, min(wanted, int(there[product.pk])))))
        taken = {p.pk for p, _ in picked}
        scarce = [
            p
            for p in pool
            if available.get(p.pk, ZERO) <= 3
            and there[p.pk] == available.get(p.pk, ZERO)
            and p.pk not in taken
        ]
        if (short or not picked) and scarce:
            product = scarce[rng.randrange(len(scarce))]
            picked.append((product, int(max(available.get(product.pk, ZERO), ZERO)) + rng.randint(2, 6)))
        lines = []
        for product, quantity in picked:
            discount = {"wholesale": rng.choice([30, 35, 40]), "manual": 10 if quantity >= 8 else 0}.get(
                code, 0
            )
            price = _usd(product.sale_price) if code == "shopify" else None
            lines.append(
                LineSpec(product, quantity, price, "", discount, self._taxes(spec, channel, product))
            )
        for sku, chance in EXTRAS.get(code, []):
            if rng.random() < chance and sku in self.services:
                service = self.services[sku]
                price = _usd(service.sale_price) if code == "shopify" else None
                lines.append(LineSpec(service, 1, price, taxes=self._taxes(spec, channel, service)))
        return lines

    def _reference(self, code: str) -> str:
        rng = self.rng
        self.references[code] += 1
        n = self.references[code]
        return {
            "shopify": f"#{1000 + n}",
            "amazon": f"{rng.randint(302, 306)}-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}",
            "wholesale": f"PO-{rng.randint(1000, 9999)}",
            "pos": f"POS-1-{n:05d}",
        }.get(code, "")

    def _after(self, moment: datetime.datetime, *, days: int = 0, minutes: int = 0) -> datetime.datetime:
        """``days`` and ``minutes`` after ``moment``, but not after now."""
        return min(moment + datetime.timedelta(days=days, minutes=minutes), self.now)

    def _on(self, day: datetime.date, hour: int, *, not_before: datetime.datetime) -> datetime.datetime:
        """``hour`` o'clock local time on ``day``, not before ``not_before`` and not after now."""
        zone = timezone.get_current_timezone()
        return min(
            max(datetime.datetime.combine(day, datetime.time(hour), tzinfo=zone), not_before), self.now
        )

    def order(self, spec: ChannelSpec, when: datetime.datetime, target: str) -> None:
        rng = self.rng
        code = spec.code
        channel = self.channels[code]
        walk_in = code == "pos" and rng.random() < 0.7
        customer = self.walk_in if walk_in else rng.choice(self.customers_of[code])
        cspec = self.specs[customer.code]
        partial = target == "partially_shipped"
        short = target == "backordered" or (partial and rng.random() < 0.5)
        count = rng.randint(2, 5) if code == "wholesale" else rng.choices([1, 2, 3], weights=[50, 35, 15])[0]
        lines = self._lines(channel, cspec, count=max(count, 2) if partial else count, short=short, when=when)
        if not lines:
            return  # nothing to sell from this warehouse
        value = sum(
            (Decimal(ln.quantity) * Decimal(ln.unit_price or ln.product.sale_price) for ln in lines), ZERO
        )
        shipping = {
            "shopify": Decimal("9.95") if value < 75 else ZERO,
            "amazon": Decimal("3.99") if rng.random() < 0.3 else ZERO,
            "wholesale": Decimal("35.00") if value < 500 else ZERO,
            "manual": Decimal("12.50"),
        }.get(code, ZERO)
        tags = {"shopify": ["web"], "amazon": [] if shipping else ["prime"], "wholesale": ["b2b"]}.get(
            code, []
        )
        discount = ZERO
        if code == "shopify" and rng.random() < 0.08:
            discount = (value * Decimal("0.10")).quantize(Decimal("0.01"))
            tags = [*tags, "first-order"]
        if any(ln.product.sku == "SRV-GIFTWRAP" for ln in lines):
            tags = [*tags, "gift"]
        user = self.sales if code in ("wholesale", "manual") else None  # the others come from the channel
        with clock.effective(when):
            order = order_create(
                channel=channel,
                customer=customer,
                lines=lines,
                order_date=when,
                shipping_amount=shipping,
                shipping_tax_rate=ZERO if code == "shopify" else VAT.get(cspec.country, VAT["NL"])[0],
                order_discount=discount,
                tags=tags,
                external_reference=self._reference(code),
                user=user,
            )
        if target == "draft":
            return
        if target in ("cancelled", "on_hold") and rng.random() < 0.35:  # before it was confirmed
            with clock.effective(self._after(when, minutes=150)):
                if target == "cancelled":
                    order_cancel(order=order, reason=rng.choice(CANCEL_REASONS), user=user)
                else:
                    order_hold(order=order, reason=rng.choice(HOLD_REASONS), user=user)
            return
        confirmed_at = self._after(when, minutes=CONFIRMED_AFTER.get(code, 30))
        with clock.effective(confirmed_at):
            order = order_confirm(order=order, user=user)
        held = self._track(order, -1)
        settled = confirmed_at  # when the last thing happened to the order
        if channel.invoice_policy == InvoicePolicy.ORDERED:  # wholesale bills at confirmation
            settle = "issued" if target == "cancelled" else "terms"
            settled = self.bill(order, cspec, confirmed_at, settle=settle)
        if target == "on_hold":
            with clock.effective(self._after(confirmed_at, minutes=45)):
                order_hold(order=order, reason=rng.choice(HOLD_REASONS), user=user)
            return
        if target == "cancelled":
            with clock.effective(self._after(confirmed_at, days=1)):
                for invoice in order.invoices.filter(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.ISSUED]):
                    invoice_void(invoice=invoice, reason="order cancelled", user=self.accountant)
                self._track(order, +1)
                order_cancel(order=order, reason=rng.choice([*CANCEL_REASONS, BACKORDER_CANCEL]), user=user)
            return
        ships_now = held > 0 or not all(ln.product.is_stocked for ln in lines)
        if target in ("confirmed", "backordered") or not ships_now:
            return
        if code == "pos":  # carried out of the store
            shipped_at = self._after(confirmed_at, minutes=2)
        else:  # packed in one to three days; a few wait up to a week longer
            lag = rng.randint(1, 3) + (rng.randint(3, 6) if rng.random() < 0.08 else 0)
            ship_day = timezone.localdate(confirmed_at) + datetime.timedelta(days=lag)
            shipped_at = self._on(ship_day, 14, not_before=confirmed_at)
        shipped_at = self.ship(order, partial=partial, short=short, at=shipped_at)
        if target == "partially_shipped":
            return
        if channel.invoice_policy == InvoicePolicy.SHIPPED:
            if code in PREPAID:  # paid at once, or billed a little later
                settle = "paid" if target == "closed" else rng.choice(["paid", "paid", "draft", "none"])
            else:
                settle = "terms" if target == "closed" else rng.choice(["terms", "terms", "draft"])
            if settle != "none":
                settled = self.bill(order, cspec, self._after(shipped_at, minutes=30), settle=settle)
        unpaid = order.invoices.exclude(status__in=[InvoiceStatus.PAID, InvoiceStatus.VOID])
        if target == "closed" and not unpaid.exists():  # closed once paid; else it waits for the money
            with clock.effective(self._after(max(settled, shipped_at), minutes=60)):
                order_close(order=order, user=user)

    def ship(
        self, order: SalesOrder, *, partial: bool, short: bool, at: datetime.datetime
    ) -> datetime.datetime:
        """Ship what is held on ``at`` (a second parcel the day after); returns when the last left."""
        rng = self.rng
        carrier, service, tracking = rng.choice(CARRIERS[order.channel.code])
        lines = list(order.lines.select_related("product").order_by("position"))
        first = lines[0]
        parcels: list[list[ShipLine] | None]
        if partial and not short and (len(lines) > 1 or first.quantity > 1):  # the first line now
            parcels = [[ShipLine(first, first.quantity if len(lines) > 1 else first.quantity - 1)]]
        elif len(lines) >= 3 and not short and rng.random() < 0.3:  # in two parcels
            parcels = [[ShipLine(first, first.quantity)], None]
        else:
            parcels = [None]  # all that is held (everything unless backordered)
        for n, parcel in enumerate(parcels):
            with clock.effective(self._after(at, days=n)) as moment:
                shipment_create(
                    order=order,
                    lines=parcel,
                    carrier=carrier,
                    service=service,
                    tracking_number=_tracking(rng, tracking),
                    user=self.sales,
                )
        return moment

    def bill(
        self, order: SalesOrder, spec: CustomerSpec, at: datetime.datetime, *, settle: str
    ) -> datetime.datetime:
        """Invoice what is invoiceable now, issued on ``at``, and settle it; returns when the last of
        it happened.

        settle: draft (not issued yet), issued (not paid), paid (at once, by card or through the
        marketplace), terms (when the customer pays: by its terms, give or take, a month late for
        late payers, sometimes only in part; or not yet, if that day is still to come).
        """
        rng = self.rng
        user = self.accountant
        day = timezone.localdate(at)
        with clock.effective(at):
            invoice = invoice_create(order=order, user=user)
            if settle == "draft":
                return at
            if settle == "terms":
                self.terms_billed += 1
                if self.terms_billed % 12 == 3:  # a wrong PO number on it: void and invoice again
                    invoice_void(invoice=invoice_issue(invoice=invoice, issue_date=day, user=user), user=user)
                    invoice = invoice_create(order=order, user=user)
                    at = self._after(at, days=1)
                    day = timezone.localdate(at)
        with clock.effective(at):
            invoice = invoice_issue(invoice=invoice, issue_date=day, user=user)
            if invoice.status != InvoiceStatus.ISSUED or settle == "issued":
                return at
            method = PREPAID.get(order.channel.code, "bank transfer")
            if settle == "paid":
                payment_record(invoice=invoice, amount=invoice.total, paid_at=day, method=method, user=user)
                return at
        delay = PaymentTerms(spec.payment_terms).days + rng.randint(-12, 10) + (30 if spec.pays_late else 0)
        paid_on = day + datetime.timedelta(days=max(0, delay))
        if paid_on > self.today:
            return at  # not paid yet; overdue once its due date has passed
        amount = invoice.total
        if settle == "terms" and rng.random() < 0.25:  # paid in two parts, the second not yet
            amount = (invoice.total / 2).quantize(Decimal("0.01"))
        reference = f"{spec.name[:40]} / {invoice.number}"
        with clock.effective(self._on(paid_on, 11, not_before=at)) as paid_at:
            payment_record(
                invoice=invoice, amount=amount, paid_at=paid_on, method=method, reference=reference, user=user
            )
        return paid_at

    def returns(self) -> None:
        """Returns of one untracked item of shipped or closed orders of the last two months: announced
        days after the last parcel left, received three days later, refunded the day after."""
        rng = self.rng
        orders = SalesOrder.objects.filter(
            channel__code__in=["shopify", "amazon", "manual"],
            status__in=[OrderStatus.SHIPPED, OrderStatus.CLOSED],
            order_date__range=(self.now - datetime.timedelta(days=60), self.now - datetime.timedelta(days=5)),
        )
        returnable = {  # order -> its first line of an untracked stocked product
            line.order_id: line
            for line in OrderLine.objects.filter(
                order__in=orders, product__kind=ProductKind.STOCKED, product__tracking=Tracking.NONE
            )
            .select_related("order__channel", "product")
            .order_by("order_id", "-position")
        }
        chosen = sorted(rng.sample(sorted(returnable), min(RETURNS, len(returnable))))
        shipped = dict(
            Shipment.objects.filter(order_id__in=chosen)
            .values("order_id")
            .annotate(last=Max("shipped_at"))
            .values_list("order_id", "last")
            .order_by()
        )
        for n, order_id in enumerate(chosen):
            line = returnable[order_id]
            reason = rng.choice(RETURN_REASONS)
            scrap = reason == "damaged in transit"
            disposition = ReturnDisposition.SCRAP if scrap else ReturnDisposition.RESTOCK
            announced = self._after(shipped[order_id], days=4 + n % 6, minutes=60)
            with clock.effective(announced):
                sales_return = return_create(
                    order=line.order,
                    lines=[ReturnLineSpec(line, 1, disposition, reason)],
                    reason=reason,
                    user=self.sales,
                )
            if n >= RECEIVED:
                continue  # announced, not back yet
            with clock.effective(self._after(announced, days=3)):
                sales_return = return_receive(sales_return=sales_return, user=self.sales)
            if n < REFUNDED:
                method = PREPAID.get(line.order.channel.code, "bank transfer")
                with clock.effective(self._after(announced, days=4)):
                    refund_record(sales_return=sales_return, method=method, user=self.accountant)
