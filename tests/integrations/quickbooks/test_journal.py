"""Inventory accounting in QuickBooks: a closed day of our ledger posted as one JournalEntry (the
connection's ``inventory_accounting`` "journal"), balanced, on the mapped accounts, once; bills then
clear goods received not billed; "none" posts nothing; an unmapped role waits for a person."""

from __future__ import annotations

import datetime
from decimal import Decimal
from unittest import mock

import httpx
import pytest
from django.utils import timezone

from integrations import mappings
from integrations.connections import connection_create
from integrations.models import Connection, Delivery, DeliveryStatus
from integrations.quickbooks.fake import REALM_ID, FakeQuickBooks
from inventory.models import LocationKind
from inventory.services import ledger_day_close, stock_issue, stock_receive, stock_scrap
from tests.integrations.quickbooks.conftest import SECRETS
from tests.inventory.factories import ProductFactory, bin_of, warehouse

pytestmark = pytest.mark.django_db

ASSET, COGS = "81", "80"


def _books(
    fake: FakeQuickBooks, accounting: str = "journal", *, clearing: bool = True
) -> tuple[Connection, str]:
    """A connection posting inventory, its roles mapped (goods received not billed: an account the
    accountant made for it; inventory adjustments left to COGS)."""
    account = fake.create_in_qbo(
        "Account", {"Name": "Goods received not billed", "AccountType": "Other Current Liability"}
    )["Id"]
    connection = connection_create(
        connector="quickbooks",
        name="Books",
        settings={"realm_id": REALM_ID, "income_account": "79", "inventory_accounting": accounting},
        secrets=SECRETS,
    )
    roles = {"inventory": ASSET, "cogs": COGS, **({"goods_received": account} if clearing else {})}
    for role, value in roles.items():
        mappings.mapping_set(connection=connection, kind="account", our_value=role, tool_value=value)
    return connection, account


def _close_today(capture) -> None:
    """10 in at 5.00 from a supplier, 4 shipped, 1 back from a customer, 1 scrapped; today closed."""
    product = ProductFactory(sku="JNL-1")
    shelf = bin_of(warehouse("WH1"))
    stock_receive(product=product, location=shelf, quantity=10, unit_cost="5.00")
    stock_issue(product=product, location=shelf, quantity=4)
    stock_receive(product=product, location=shelf, quantity=1, source=LocationKind.CUSTOMER)
    stock_scrap(product=product, location=shelf, quantity=1, reason="dropped")
    today = timezone.localdate()
    tomorrow = today + datetime.timedelta(days=1)
    with (
        mock.patch("inventory.services.closing.timezone.localdate", return_value=tomorrow),
        capture(execute=True),
    ):
        ledger_day_close(day=today)


def _postings(entry: dict) -> list[tuple[str, str, Decimal]]:
    return sorted(
        (
            line["JournalEntryLineDetail"]["PostingType"],
            line["JournalEntryLineDetail"]["AccountRef"]["value"],
            Decimal(str(line["Amount"])),
        )
        for line in entry["Line"]
    )


def test_a_closed_day_is_one_balanced_journal_entry_on_the_mapped_accounts(
    fake, django_capture_on_commit_callbacks
) -> None:
    connection, clearing = _books(fake)

    _close_today(django_capture_on_commit_callbacks)

    [entry] = fake.objects("JournalEntry")
    assert entry["TxnDate"] == timezone.localdate().isoformat()
    assert entry["DocNumber"] == f"INV-{timezone.localdate():%Y%m%d}"
    assert _postings(entry) == sorted(
        [
            ("Debit", ASSET, Decimal("50.00")),  # received from the supplier
            ("Credit", clearing, Decimal("50.00")),
            ("Debit", COGS, Decimal("15.00")),  # 4 shipped less 1 returned, at 5.00
            ("Credit", ASSET, Decimal("15.00")),
            ("Debit", COGS, Decimal("5.00")),  # scrapped: the adjustment role falls back to COGS
            ("Credit", ASSET, Decimal("5.00")),
        ]
    )
    [delivery] = Delivery.objects.filter(connection=connection, topic="inventory.day_closed")
    assert delivery.status == DeliveryStatus.SUCCEEDED
    [posted] = [r for r in fake.requests if r.method == "POST" and r.operation != "POST query"]
    assert posted.operation == "POST journalentry"
    assert httpx.URL(posted.url).params.get("requestid")


def test_no_inventory_postings_by_default(fake, django_capture_on_commit_callbacks) -> None:
    connection, _ = _books(fake, accounting="none")

    _close_today(django_capture_on_commit_callbacks)

    assert fake.objects("JournalEntry") == []
    [delivery] = Delivery.objects.filter(connection=connection, topic="inventory.day_closed")
    assert delivery.status == DeliveryStatus.SKIPPED
    assert "keeps no inventory postings" in delivery.last_error


def test_an_unmapped_clearing_account_waits_for_a_person(fake, django_capture_on_commit_callbacks) -> None:
    connection, clearing = _books(fake, clearing=False)

    _close_today(django_capture_on_commit_callbacks)

    [waiting] = Delivery.objects.filter(connection=connection, topic="inventory.day_closed")
    assert waiting.missing == {"kind": "map account", "value": "goods_received"}
    assert fake.objects("JournalEntry") == []

    with django_capture_on_commit_callbacks(execute=True):
        mappings.mapping_set(
            connection=connection, kind="account", our_value="goods_received", tool_value=clearing
        )

    assert len(fake.objects("JournalEntry")) == 1
