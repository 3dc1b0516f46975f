"""HubSpot's part in the simulated day: the CRM where the day's customers and their orders go, and
a sales rep working in it.

The fake HubSpot holds the samples' portal with the app installed; the connection signs in with
OAuth (30-minute access tokens the hub renews; the day expires them now and then) and maps our order
stages to the portal's "Sales orders" pipeline. HubSpot sends every portal's events to the app's one
address, in arrays, signed v3; the day's safety-net poll searches the contacts changed since the last
poll.

The sales rep, at each step, may edit a contact of one of the day's customers: its phone or its
name (the last writer wins, so the customer here takes it), its lifecycle stage or its owner (only
HubSpot keeps them: they are kept on the link here), or its city (the address is ours: the hub sends
its own again). Twice a day at most the rep finds a duplicate: a contact the rep made by hand for a
customer already there, merged either into the hub's contact or the other way round (then the hub's
link must move to the surviving contact).

At the end (``differences``) every customer linked to HubSpot is its contact there, field by field
as the ownership rules say: what the hub sends equals the contact's properties, and what only
HubSpot keeps equals what the link keeps; no two contacts carry one customer number; and every order
that is a deal is there once, with our amount and the stage of its state.
"""

from __future__ import annotations

import datetime
from collections import Counter
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django.utils import timezone

from integrations import ownership
from integrations.connections import connection_create
from integrations.field_owners import KEPT_ON_LINK
from integrations.hubspot import mapping
from integrations.hubspot.fake import APP_ID, BASE_URL, CLIENT_ID, CLIENT_SECRET, PORTAL_ID, FakeHubSpot
from integrations.hubspot.fake_data import OWNER_ID
from integrations.hubspot.fake_objects import Record
from integrations.models import Connection, ExternalRef
from integrations.outbound_accounting import customer_out_for
from integrations.outbound_crm import stage_of
from integrations.simulate.books import BackOffice, BooksTool

# The in-process hook's address as it builds it (``hooks.post_in_process``): what v3 signatures cover.
HOOK = "http://localhost/integrations/hooks/app/hubspot/"
PIPELINE = "orders"  # the portal's "Sales orders" pipeline
STAGES = {
    "confirmed": "order_confirmed",
    "shipped": "order_shipped",
    "invoiced": "order_invoiced",
    "paid": "order_paid",
    "cancelled": "order_cancelled",
    "closed": "order_closed",
}
EDIT_CHANCE, MERGE_CHANCE, MERGES_A_DAY = 0.35, 0.08, 2
EDITS = ("phone", "name", "lifecycle_stage", "owner", "city")
LIFECYCLE = ("lead", "opportunity", "customer", "evangelist")
# What the day's API faults aim at (never the token endpoint); lost answers only after a write.
AIMED = (
    "contacts/batch/upsert",
    "deals/batch/upsert",
    "batch/read",
    "search",
    "GET /crm/v3/objects/contacts",
)
WRITES = ("contacts/batch/upsert", "deals/batch/upsert", "companies/batch/upsert")


class Crm(BooksTool):
    """HubSpot as a back-office tool of the day: polled, worked in by a person, checked at the end."""

    key: ClassVar[str] = "hubspot"
    origin: ClassVar[str] = BASE_URL
    polled: ClassVar[tuple[str, ...]] = ("customer",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._fake = FakeHubSpot(clock=self.clock, monotonic=self.clock.monotonic)
        self._step = 0
        self._merges = 0

    @property
    def fake(self) -> FakeHubSpot:
        return self._fake

    def token_refreshes(self) -> int:
        return sum(c.grant_type == "refresh_token" and c.status == 200 for c in self._fake.token_calls)

    # --- the morning ---------------------------------------------------------------------------

    def setup(self, *, tag: str, served_at: str | None) -> Connection:
        fake = self._fake
        fake.set_target(HOOK)
        granted = fake.issue_tokens()
        self.connection = connection = connection_create(
            connector=self.key,
            name=f"Simulated CRM {tag}",
            settings={
                "base_url": served_at or BASE_URL,
                "portal_id": str(PORTAL_ID),
                "app_id": str(APP_ID),
                "pipeline": PIPELINE,
                "stages": STAGES,
            },
            secrets={
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "access_token": granted["access_token"],
                "refresh_token": granted["refresh_token"],
            },
        )
        connection.token_expires_at = timezone.now() + datetime.timedelta(seconds=int(granted["expires_in"]))
        connection.save(update_fields=["token_expires_at"])
        return connection

    # --- faults ---------------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        self._fake.expire_tokens()
        self.api_faults["tokens_expired"] += 1

    def inject_api_faults(self) -> None:
        faults, rng, fake = self.faults, self.rng, self._fake
        if rng.random() < faults.throttle:
            fake.throttle_next(rng.randint(1, 4), match=rng.choice(AIMED))
            self.api_faults["429_burst"] += 1
        if rng.random() < faults.error:
            fake.fail_next(rng.randint(1, 3), status=rng.choice((500, 502, 503)), match=rng.choice(AIMED))
            self.api_faults["5xx_burst"] += 1
        if rng.random() < faults.timeout:
            lost = rng.random() < 0.5  # HubSpot wrote it; the answer never came
            fake.timeout_next(1, match=rng.choice(WRITES if lost else AIMED), processed=lost)
            self.api_faults["timeout_after_write" if lost else "timeout"] += 1
        if rng.random() < faults.slow:
            fake.slow_next(1, seconds=float(rng.randint(2, 8)), match=rng.choice(AIMED))
            self.api_faults["slow"] += 1

    # --- the sales rep ----------------------------------------------------------------------------

    def work(self, office: BackOffice) -> None:
        self._step += 1
        linked = self._linked()
        if not linked:
            return
        if self.rng.random() < EDIT_CHANCE:
            self._edit(*self.rng.choice(linked))
        if self._merges < MERGES_A_DAY and self.rng.random() < MERGE_CHANCE:
            self._merge(*self.rng.choice(linked))

    def _linked(self) -> list[tuple[Any, Record]]:
        """The day's customers HubSpot has, with their contact there (as the hub links them)."""
        from sales.models import Customer

        assert self.connection is not None
        refs = dict(
            ExternalRef.objects.filter(
                connection=self.connection, object_type="customer", content_type__model="customer"
            )
            .order_by("pk")
            .values_list("object_id", "external_id")
        )
        found = []
        for customer in Customer.objects.filter(pk__in=refs).order_by("pk"):
            record = self._fake.get_record(mapping.CONTACTS, refs[customer.pk])
            if record is not None and record.archived_at is None:
                found.append((customer, record))
        return found

    def _edit(self, customer: Any, record: Record) -> None:
        kind = self.rng.choice(EDITS)
        has_address = bool(record.get("city"))
        if kind == "city" and not has_address:
            kind = "phone"  # the rep does not make up an address the hub never sent
        step = self._step
        changes: dict[str, Any] = {
            "phone": {"phone": f"+1 555 01{step % 100:02d}"},
            "name": {"lastname": f"{record.get('lastname') or 'Buyer'}-{step}"[:60]},
            "lifecycle_stage": {"lifecyclestage": self.rng.choice(LIFECYCLE)},
            "owner": {"hubspot_owner_id": OWNER_ID},
            "city": {"city": f"Springfield {step}"},
        }[kind]
        if all(record.get(name) == value for name, value in changes.items()):
            return
        self._fake.rep_edits(mapping.CONTACTS, record.id, **changes)
        self.actions[f"rep_edited_{kind}"] += 1

    def _merge(self, customer: Any, record: Record) -> None:
        """The rep makes a contact for a customer HubSpot has already (another address of theirs),
        then finds the two and merges them: into the hub's contact, or the hub's into the new one."""
        email = record.get("email") or ""
        local, _, domain = email.partition("@")
        if not domain or record.get(mapping.MERGED_IDS):
            return
        self._merges += 1
        duplicate = self._fake.rep_creates(
            mapping.CONTACTS,
            firstname=record.get("firstname") or "",
            lastname=record.get("lastname") or "",
            email=f"{local}+crm{self._step}@{domain}",
        )
        if self.rng.random() < 0.5:
            self._fake.rep_merges(mapping.CONTACTS, record.id, duplicate.id)
            self.actions["rep_merged_a_duplicate_into_ours"] += 1
        else:
            self._fake.rep_merges(mapping.CONTACTS, duplicate.id, record.id)
            self.actions["rep_merged_ours_into_a_duplicate"] += 1

    # --- the end of the day ---------------------------------------------------------------------------

    def differences(self) -> list[dict[str, Any]]:
        assert self.connection is not None
        found: list[dict[str, Any]] = []
        found += self._customers()
        found += self._deals()
        return found

    def _customers(self) -> list[dict[str, Any]]:
        """Every linked customer is its contact there, field by field as the rules say."""
        from sales.models import Customer

        connection = self.connection
        assert connection is not None
        owners = ownership.field_owners_of(connection)
        snapshot = self._fake.snapshot()
        contacts: dict[str, dict[str, Any]] = snapshot[mapping.CONTACTS]
        merged: dict[str, str] = snapshot["merged"].get(mapping.CONTACTS, {})
        refs = list(
            ExternalRef.objects.filter(
                connection=connection, object_type="customer", content_type__model="customer"
            ).order_by("pk")
        )
        customers = Customer.objects.prefetch_related("addresses").in_bulk([r.object_id for r in refs])
        found: list[dict[str, Any]] = []
        codes = Counter(
            str(c["properties"].get(mapping.CUSTOMER_CODE) or "")
            for c in contacts.values()
            if not c["archived"]
        )
        for code, count in sorted(codes.items()):
            if code and count > 1:
                found.append(self.drift_item("customer", code, "duplicate_there", 1, count))
        for ref in refs:
            customer = customers.get(ref.object_id)
            if customer is None:
                continue
            self.summary["customers"] = self.summary.get("customers", 0) + 1
            contact = contacts.get(ref.external_id)
            if contact is None and ref.external_id in merged:
                found.append(
                    self.drift_item(
                        "customer", customer.code, "link_not_moved", ref.external_id, merged[ref.external_id]
                    )
                )
                continue
            if contact is None or contact["archived"]:
                found.append(self.drift_item("customer", customer.code, "missing_there", customer.name, None))
                continue
            there = contact["properties"]
            item = customer_out_for(connection, customer, ref, owners)
            expected = mapping.contact_properties(item, item.withheld)
            for name, ours in sorted(expected.items()):
                theirs = there.get(name)
                if not _same(name, ours, theirs):
                    found.append(
                        self.drift_item("customer", f"{customer.code} {name}", "field", ours, theirs)
                    )
            if customer.kind == "company":
                found += self._company(customer, item, snapshot[mapping.COMPANIES])
            kept = (ref.extra.get("crm") or {}) if isinstance(ref.extra, dict) else {}
            for field in sorted(KEPT_ON_LINK & set(item.withheld)):
                there_kept = there.get(mapping.CRM_KEPT[field])
                kept_here = (kept.get(field) or {}).get("value")
                if (kept_here or None) != (there_kept or None):
                    found.append(
                        self.drift_item(
                            "customer", f"{customer.code} {field}", "kept_on_link", kept_here, there_kept
                        )
                    )
                elif there_kept:
                    self.summary[f"kept_{field}"] = self.summary.get(f"kept_{field}", 0) + 1
        return found

    def _company(
        self, customer: Any, item: Any, companies: dict[str, dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """A company customer's company there shows what the hub sends it."""
        company = companies.get(item.company_external_id) if item.company_external_id else None
        if company is None or company["archived"]:
            return [self.drift_item("company", customer.code, "missing_there", customer.name, None)]
        self.summary["companies"] = self.summary.get("companies", 0) + 1
        there = company["properties"]
        return [
            self.drift_item("company", f"{customer.code} {name}", "field", ours, there.get(name))
            for name, ours in sorted(mapping.company_properties(item, item.withheld).items())
            if not _same(name, ours, there.get(name))
        ]

    def _deals(self) -> list[dict[str, Any]]:
        """Every order that is a deal is there once, with our amount and its stage."""
        from sales.models import OrderStatus, SalesOrder

        connection = self.connection
        assert connection is not None
        deals: dict[str, list[dict[str, Any]]] = {}
        for row in self._fake.snapshot()[mapping.DEALS].values():
            if not row["archived"]:
                number = str(row["properties"].get(mapping.ORDER_NUMBER) or "")
                deals.setdefault(number, []).append(row["properties"])
        linked = set(
            ExternalRef.objects.filter(connection=connection, object_type="deal").values_list(
                "object_id", flat=True
            )
        )
        found: list[dict[str, Any]] = []
        orders = (
            SalesOrder.objects.exclude(status=OrderStatus.DRAFT)
            .select_related("customer")
            .prefetch_related("invoices", "lines")
            .order_by("pk")
        )
        for order in orders:
            there = deals.get(order.number, [])
            if order.status == OrderStatus.CANCELLED and not there and order.pk not in linked:
                continue  # cancelled before HubSpot had it: never a deal
            self.summary["deals"] = self.summary.get("deals", 0) + 1
            if len(there) != 1:
                kind = "missing_there" if not there else "duplicate_there"
                found.append(self.drift_item("deal", order.number, kind, 1, len(there)))
                continue
            deal = there[0]
            stage = STAGES[stage_of(order)]
            if deal.get("dealstage") != stage:
                found.append(self.drift_item("deal", order.number, "stage", stage, deal.get("dealstage")))
            if _decimal(deal.get("amount")) != order.total:
                found.append(self.drift_item("deal", order.number, "amount", order.total, deal.get("amount")))
        return found


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _same(name: str, ours: str, theirs: Any) -> bool:
    """Whether HubSpot shows a property as we send it (a number as a number, an email in any case)."""
    if name == "email":
        return ours.strip().casefold() == str(theirs or "").strip().casefold()
    if name in (mapping.LIFETIME_VALUE,):
        return _decimal(ours) == _decimal(theirs)
    return (ours or None) == (theirs or None)
