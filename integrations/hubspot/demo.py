"""Demo data: the demo company's CRM in HubSpot (a local fake HubSpot portal), connected today: the
demo's customers become contacts, its confirmed orders deals of the portal's "Sales orders"
pipeline, and what the sales rep does there comes back.

Registered with ``erp.demo`` (order 37, after the demo QuickBooks' 36 and before the first runs'
39), run by ``manage.py seed_demo``; ``integrations.apps`` imports every connector package's demo.

* The fake is integrations.hubspot.fake (one portal per process, the samples' portal 33 with the
  app installed), served at /integrations/fake-hubspot/ with the fakes on
  (``integrations.demo_fakes``); the hub's client reaches it in-process. The app's webhook target
  is the served app's one HubSpot address, /integrations/hooks/app/hubspot/; the app subscribes to
  contact events only (the hub reads no deal or company events: deals are ours).
* The connection "Demo HubSpot": a private app's token (it never expires), the app's client secret
  (the key of every webhook signature), the portal and app ids, and our order stages mapped to the
  "Sales orders" pipeline.
* The portal is not empty: a sales rep made a few contacts before we connected (``REP_CONTACTS``,
  made in every process's fake first, so their ids are the same in the seeding process and in the
  served app). One has the email of a demo customer: the first sync links that customer to it
  rather than making a second contact; it also carries the rep's lifecycle stage and owner, which
  only HubSpot keeps (kept on the link here: the connection page's "Kept from HubSpot").
* The first sync, once the demo is saved: the outbox's pushes first (every customer a contact, the
  one the rep made taken over by its email rather than made twice, every confirmed order a deal in
  the stage of its order), then the events HubSpot tells of the rep's contacts (``first_poll``):
  the rep's lifecycle stage and owner are kept on the link, the rep's other contacts become
  customers here. Not a poll: it would read every contact back, ours too, for nothing new.
* "A sales rep edits a contact" on the connection's page (``demo_card`` / ``demo_act``): the rep
  moves the linked contact on to its next lifecycle stage in HubSpot, and the fake's signed webhook
  reaches the app's endpoint in this process: the stage kept here follows.
* Idempotent: the connection is looked up by name, the rep's contacts by email.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction

from erp import demo, events
from integrations import demo_fakes, hooks, outbound, queueing
from integrations.models import Connection, ExternalRef

DEMO_NAME = "Demo HubSpot"
KEY = "hubspot"
CUSTOMER = "customer"
PIPELINE = "orders"  # the portal's "Sales orders" pipeline (fake_data.PIPELINES)
STAGES = {
    "confirmed": "order_confirmed",
    "shipped": "order_shipped",
    "invoiced": "order_invoiced",
    "paid": "order_paid",
    "cancelled": "order_cancelled",
    "closed": "order_closed",
}
EDIT = "rep-edits"
PUSH_ROUNDS = 4
logger = logging.getLogger(__name__)
# The lifecycle stages a rep moves a contact through, in order (HubSpot's own ids).
LIFECYCLE = ("lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer", "evangelist")


@dataclass(frozen=True)
class RepContact:
    """A contact the sales rep made in HubSpot by hand, before the hub was connected."""

    firstname: str
    lastname: str
    email: str
    phone: str = ""
    jobtitle: str = ""
    lifecyclestage: str = ""
    owner: bool = False  # the rep owns it (hubspot_owner_id)

    def properties(self) -> dict[str, str]:
        from integrations.hubspot.fake_data import OWNER_ID

        values = {
            "firstname": self.firstname,
            "lastname": self.lastname,
            "email": self.email,
            "phone": self.phone,
            "jobtitle": self.jobtitle,
            "lifecyclestage": self.lifecyclestage,
            "hubspot_owner_id": OWNER_ID if self.owner else "",
        }
        return {name: value for name, value in values.items() if value}


def _demo_customer() -> Any:
    """The sales demo's first US web-store customer (its plan is deterministic: no database read),
    whom the rep has met: the contact of the same email is this customer."""
    import sales.demo
    from sales.demo.plan import build_customers

    specs = build_customers(random.Random(sales.demo.SEED))
    return next(s for s in specs if s.kind == "person" and s.channel == "shopify" and s.email)


def rep_contacts() -> tuple[RepContact, ...]:
    """The rep's contacts: a demo customer's (same email, the rep's lifecycle stage and owner), and
    two people the rep met who have not ordered from us."""
    known = _demo_customer()
    first, _, last = known.name.partition(" ")
    return (
        RepContact(
            first, last, known.email, jobtitle="Trip leader", lifecyclestage="opportunity", owner=True
        ),
        RepContact(
            "Maya",
            "Lindqvist",
            "maya@northfork-guides.example",
            phone="+1 406 555 0143",
            jobtitle="Head guide",
            lifecyclestage="lead",
            owner=True,
        ),
        RepContact("Tomás", "Rivera", "tomas.rivera@example.net", lifecyclestage="subscriber"),
    )


# --- the fake ----------------------------------------------------------------------------------------


def hook_url() -> str:
    """The app's webhook target: the served app's one HubSpot address (what the v3 signature covers).
    Spelled out as ``demo_fakes.fake_url`` spells the fake's: the URL conf calls this while it loads."""
    origin = demo_fakes.fake_url(KEY).removesuffix(f"/integrations/fake-{KEY}")
    return f"{origin}/integrations/hooks/app/{KEY}/"


def _prepared(fake: Any) -> None:
    """The demo portal: the app's target and contact subscriptions, and the rep's contacts (made
    first in a fresh fake, so their ids are the same in every process)."""
    from integrations.hubspot.fake_objects import Source

    with fake.lock:
        fake.set_target(hook_url())
        for subscription in fake.subscriptions:
            if not subscription["type"].startswith("contact."):
                fake.pause_subscription(subscription["id"])
        for contact in rep_contacts():
            if fake.find_unique("contacts", "email", contact.email) is None:
                fake.create("contacts", contact.properties(), Source.rep())


def install_fakes() -> None:
    from integrations.hubspot.fake import shared_fake

    fake = shared_fake()
    _prepared(fake)
    demo_fakes.mount(KEY, fake)


def install_fakes_for_serving() -> None:
    """Mount the fake for a served app (the URL conf calls this once); tests mount their own."""
    if demo_fakes.fakes_enabled():
        install_fakes()


def is_demo(connection: Connection) -> bool:
    return demo_fakes.is_demo(connection, KEY)


# --- the seeder ------------------------------------------------------------------------------------


def _connection() -> Connection:
    from integrations.connections import connection_create
    from integrations.hubspot.fake import APP_ID, CLIENT_SECRET, PORTAL_ID, PRIVATE_APP_TOKEN

    connection = Connection.objects.filter(name=DEMO_NAME).first()
    if connection is not None:
        return connection
    return connection_create(
        connector=KEY,
        name=DEMO_NAME,
        settings={
            "base_url": demo_fakes.fake_url(KEY),
            "portal_id": str(PORTAL_ID),
            "app_id": str(APP_ID),
            "pipeline": PIPELINE,
            "stages": STAGES,
        },
        secrets={"access_token": PRIVATE_APP_TOKEN, "client_secret": CLIENT_SECRET},
    )


def first_poll(connection_id: int) -> str:
    """The rep's contacts in, once our customers are there (after the demo's pushes): the contact
    of a demo customer is its contact already, and the lifecycle stage and owner the rep gave it are
    kept on the link; the rep's other contacts become customers here. What the poll did, in words."""
    connection = Connection.objects.get(pk=connection_id)
    # Ours first, whatever ran before: the demo's events fanned out and this connection's pushes
    # made (already done when the tasks run in process). A contact read before its customer went
    # out is linked by its email, and the first push keyed by our number then makes a second one.
    for _ in range(PUSH_ROUNDS):  # a deal waits for its customer's push: a round each
        events.dispatch_events(events.pending_events().values_list("pk", flat=True))
        due = list(
            outbound.deliveries_due().filter(connection=connection).values_list("pk", "next_attempt_at")
        )
        if not due:
            break
        queueing.attempt_deliveries(due)
    # The rep's contacts come in as HubSpot tells of them: the creation events of what the rep made
    # (our own pushes' events are the app's writes, which the hub does not read again). A poll
    # would read every contact back, ours too: half a minute more of seeding for nothing new.
    from integrations.hubspot.fake import shared_fake

    fake = shared_fake()
    rep_events = fake.take_events(source="CRM_UI")
    if not rep_events:
        return "no contact of the rep's to read"
    body = json.dumps(rep_events, separators=(",", ":")).encode()
    status, _ = hooks.post_in_process(
        connection, fake.signed(body, url=hook_url()), body, urlsplit(hook_url()).netloc
    )
    linked = ExternalRef.objects.filter(connection=connection, object_type=CUSTOMER).count()
    said = f"the rep's {len(rep_events)} events read ({status}), {linked} customers linked"
    logger.info("integrations: %s's first sync: %s", connection.name, said)
    return said


@transaction.atomic
def seed_hubspot() -> list[str]:
    """The connection, and its first sync once the demo is saved: the outbox's pushes go first (they
    were registered first: every customer a contact, the one the rep made linked by its email rather
    than made twice, every confirmed order a deal), then the rep's contacts come in as HubSpot
    tells of them."""
    from integrations import registry

    try:
        registry.get(KEY)
    except registry.UnknownConnector:
        return ["integrations: no HubSpot connector installed, no demo CRM"]
    if not demo_fakes.fakes_enabled():
        return ["integrations: the fakes are off: no demo HubSpot"]
    install_fakes()
    connection = _connection()
    if not connection.cursors.get(CUSTOMER):
        transaction.on_commit(partial(first_poll, connection.pk))
    return [
        f"integrations: connection '{connection.name}' (id {connection.pk}) to the fake HubSpot at "
        f"{demo_fakes.fake_url(KEY)}/ (portal {connection.settings.get('portal_id')}, deals in its "
        f"'{PIPELINE}' pipeline); once the demo is saved the customers and confirmed orders go there, "
        f"then the {len(rep_contacts())} contacts a sales rep made there come in"
    ]


demo.register(37, "integrations-hubspot", seed_hubspot)


# --- the connection page's demo card -----------------------------------------------------------------


def _linked_rep_contact(connection: Connection) -> tuple[ExternalRef, str] | None:
    """The link of the demo customer the rep knows, and the contact's id, when it is linked."""
    from integrations.hubspot.fake import shared_fake

    contact = shared_fake().get_record("contacts", _first_contact_id())
    if contact is None:
        return None
    ref = ExternalRef.objects.filter(
        connection=connection, object_type=CUSTOMER, external_id=contact.id
    ).first()
    return (ref, contact.id) if ref is not None else None


def _first_contact_id() -> str:
    from integrations.hubspot.fake import shared_fake

    with shared_fake().lock:
        found = shared_fake().find_unique("contacts", "email", rep_contacts()[0].email)
        return found.id if found is not None else ""


def demo_card(connection: Connection) -> dict[str, Any] | None:
    """The "Demo HubSpot" card (None: not the demo connection, or the fakes are off)."""
    if not demo_fakes.fakes_enabled() or not is_demo(connection):
        return None
    rep = rep_contacts()[0]
    return {
        "title": "Demo HubSpot",
        "text": (
            "This connection talks to a fake HubSpot portal served by this app. The demo's customers "
            "are its contacts and their confirmed orders deals of the 'Sales orders' pipeline, in the "
            "stage of each order. A sales rep works there too: the contact of "
            f"{rep.firstname} {rep.lastname} ({rep.email}) is the rep's, linked to our customer by "
            "its email, with a lifecycle stage and an owner only HubSpot keeps (see Kept from "
            f"{connection.name} under Ownership). Play the rep: move that contact on to its next "
            "lifecycle stage in HubSpot; its signed webhook reaches this app and the stage kept here "
            "follows."
        ),
        "actions": [
            {
                "name": EDIT,
                "label": "A sales rep edits a contact",
                "title": "The rep moves the linked contact to its next lifecycle stage in HubSpot",
            }
        ],
    }


def deliver(connection: Connection) -> list[int]:
    """The fake's queued webhooks, to the app's endpoint in this process, as HubSpot calls the
    target (its host: the v3 signature covers the URL); the answers."""
    from integrations.hubspot.fake import shared_fake

    return hooks.deliver_in_process(connection, shared_fake(), urlsplit(hook_url()).netloc)


def _edit(connection: Connection) -> tuple[str, str]:
    from integrations.hubspot.fake import shared_fake

    linked = _linked_rep_contact(connection)
    if linked is None:
        return "info", "The rep's contact is not linked to a customer here yet: poll the contacts first."
    ref, contact_id = linked
    fake = shared_fake()
    deliver(connection)  # anything queued before (our own pushes' events) goes first
    now = fake.values("contacts", contact_id).get("lifecyclestage") or ""
    stage = LIFECYCLE[(LIFECYCLE.index(now) + 1) % len(LIFECYCLE)] if now in LIFECYCLE else LIFECYCLE[0]
    fake.rep_edits("contacts", contact_id, lifecyclestage=stage)
    answers = deliver(connection)
    said = f"The rep moved contact {contact_id} to lifecycle stage '{stage}' in HubSpot."
    if not answers or any(not 200 <= a < 300 for a in answers):
        return "warning", f"{said} Its webhook was answered {answers or 'not at all'}."
    ref.refresh_from_db()
    kept = ((ref.extra or {}).get("crm") or {}).get("lifecycle_stage") or {}
    if kept.get("value") == stage:
        follows = f"the stage kept here is '{stage}'"
    else:  # the tasks run elsewhere (a worker): the event waits its turn
        follows = "the stage kept here follows once its event is processed"
    return (
        "success",
        f"{said} Its signed webhook reached this app's HubSpot address: {follows} (Ownership, Kept "
        f"from {connection.name}; the Inbound events tab shows the event).",
    )


def demo_act(connection: Connection, name: str, host: str) -> tuple[str, str]:
    """Run a demo action of the card: (message level, message)."""
    if name == EDIT:
        return _edit(connection)
    raise ValueError(f"No demo action {name!r} on HubSpot")
