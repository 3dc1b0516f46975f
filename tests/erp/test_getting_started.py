"""The home's getting-started checklist: every step undone on a fresh database, each ticked when its
record appears, gone once all are done, shown to whom it concerns, at a constant number of queries;
and the demo seeds what makes it complete."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from erp import onboarding
from erp.company import company_profile_update
from integrations.models import SyncJob, SyncRunStatus
from inventory.services import warehouse_create
from tests.erp.factories import UserFactory
from tests.integrations.factories import ConnectionFactory, SyncRunFactory
from tests.inventory.factories import ProductFactory, unit
from tests.queries import count_queries

pytestmark = pytest.mark.django_db

ALL_STEPS = ["company", "warehouses", "products", "opening-stock", "tools", "users"]


@pytest.fixture
def root():
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def states(user) -> dict[str, bool]:
    request = RequestFactory().get("/")
    request.user = user
    return {s.step.key: s.done for s in onboarding.checklist(request)}


def home(user) -> str:
    client = Client()
    client.force_login(user)
    return client.get("/").content.decode()


def save_company(user) -> None:
    company_profile_update(by=user, name="Widgets Ltd", base_currency="USD")


def add_warehouse() -> None:
    warehouse_create(code="WH1", name="Main")


def add_product() -> None:
    ProductFactory(sku="TEE")


def add_stock() -> None:
    from tests.sales.factories import stocked_product

    stocked_product(5, sku="MUG")


def connect_tool(*, reconciled: bool = True) -> None:
    connection = ConnectionFactory(name="Shop")
    SyncRunFactory(
        connection=connection, job=SyncJob.IMPORT, status=SyncRunStatus.SUCCEEDED, finished_at=timezone.now()
    )
    if reconciled:
        SyncRunFactory(
            connection=connection,
            job=SyncJob.RECONCILE,
            status=SyncRunStatus.PARTIAL,
            finished_at=timezone.now(),
        )


def invite_someone() -> None:
    UserFactory(username="dana", roles=["Warehouse"])


MAKERS = {
    "warehouses": add_warehouse,
    "products": add_product,
    "opening-stock": add_stock,
    "tools": connect_tool,
    "users": invite_someone,
}


def test_a_fresh_database_shows_every_step_undone_on_the_home(root):
    assert states(root) == dict.fromkeys(ALL_STEPS, False)

    page = home(root)

    assert 'id="getting-started"' in page
    assert "0 of 6 done" in page
    for title in (
        "Company details and currency",
        "Warehouses and locations",
        "Opening stock",
        "Users invited",
    ):
        assert title in page


@pytest.mark.parametrize("key", ALL_STEPS)
def test_each_step_turns_done_when_its_record_appears_and_no_other_does(root, key):
    if key == "company":
        save_company(root)
    else:
        MAKERS[key]()

    done = states(root)

    assert done[key] is True
    # opening stock brings its product and warehouse along: nothing else turns done by itself
    implied = {"opening-stock": {"products", "warehouses"}}.get(key, set())
    assert {k for k, v in done.items() if v} == {key, *implied}


def test_a_tool_without_its_first_reconciliation_is_not_done_and_one_that_failed_does_not_count(root):
    connect_tool(reconciled=False)
    assert states(root)["tools"] is False

    connection = ConnectionFactory(name="Other")
    SyncRunFactory(
        connection=connection, job=SyncJob.POLL, status=SyncRunStatus.FAILED, finished_at=timezone.now()
    )
    assert states(root)["tools"] is False


def test_a_paused_connection_does_not_hold_the_step_back(root):
    connect_tool()
    ConnectionFactory(name="Old shop", status="paused")

    assert states(root)["tools"] is True


def test_a_connector_that_does_not_reconcile_needs_its_first_sync_only(root):
    connection = ConnectionFactory(name="Ships", connector="shipstation", settings={}, secrets={})
    SyncRunFactory(
        connection=connection, job=SyncJob.POLL, status=SyncRunStatus.SUCCEEDED, finished_at=timezone.now()
    )

    assert states(root)["tools"] is True


def test_the_users_step_does_not_count_the_person_looking(root):
    manager = UserFactory(username="ops", roles=["Operations manager"])

    assert states(manager)["users"] is False  # root is someone else, but holds no role
    assert states(root)["users"] is True  # the manager is someone else, with a role
    manager.is_active = False
    manager.save()
    assert states(root)["users"] is False


def test_progress_counts_what_is_done(root):
    save_company(root)
    add_stock()

    page = home(root)

    # the company, and the stock with its product and warehouse
    assert "4 of 6 done" in page
    assert 'aria-valuenow="4"' in page
    assert "width: 67%" in page


def test_once_every_step_is_done_the_section_disappears(root):
    save_company(root)
    add_stock()
    connect_tool()
    invite_someone()

    assert all(states(root).values())
    assert 'id="getting-started"' not in home(root)


def test_operations_managers_see_every_step_but_only_superusers_open_the_users_page(root):
    manager = UserFactory(username="ops", roles=["Operations manager"])
    request = RequestFactory().get("/")
    request.user = manager

    by_key = {s.step.key: s for s in onboarding.checklist(request)}

    assert list(by_key) == ALL_STEPS
    assert (by_key["users"].url, by_key["company"].url) == ("", "/settings/company/")
    assert "A superuser invites users" in home(manager)


def test_integration_admins_see_the_tool_step_only_and_others_nothing(root):
    admin = UserFactory(username="ia", roles=["Integration admin"])
    seller = UserFactory(username="seller", roles=["Sales"])

    assert list(states(admin)) == ["tools"]
    assert states(seller) == {}
    assert 'id="getting-started"' in home(admin)
    assert 'id="getting-started"' not in home(seller)


def test_the_checklist_costs_the_same_queries_whatever_the_data(root):
    request = RequestFactory().get("/")
    request.user = root
    onboarding.section_context(request)
    before = count_queries(lambda: onboarding.section_context(request))

    add_stock()
    connect_tool()
    for n in range(4):
        ConnectionFactory(name=f"Shop {n}")
        ProductFactory(sku=f"P{n}")
        UserFactory(username=f"u{n}", roles=["Sales"])

    assert count_queries(lambda: onboarding.section_context(request)) == before
    assert before <= 8  # one per step at most, and the role check


# --- the demo ----------------------------------------------------------------------------------------


@pytest.fixture
def fakes(settings) -> Iterator[None]:
    from integrations import demo as shopify_demo
    from integrations import http
    from integrations.shopify.fake import shared_fake

    settings.ERP_DEMO_FAKES = True
    shared_fake().reset()
    yield
    http.unmount(shopify_demo.demo_base_url())


def test_the_demo_seeds_what_completes_the_checklist(fakes, django_capture_on_commit_callbacks):
    from erp import demo as erp_demo
    from integrations import demo as shopify_demo
    from integrations.onboarding import active_connections_setup, first_runs, seed_first_runs
    from tests.inventory.factories import warehouse
    from tests.sales.factories import ChannelFactory, stocked_product

    # given: the demo's users and company, its Shopify store against the fake, stock on a shelf
    erp_demo._seed_users()
    erp_demo._seed_company()
    unit("pcs")
    ChannelFactory(code="shopify", name="Shopify web store", warehouse=warehouse("MAIN"))
    shopify_demo.seed_integrations()
    stocked_product(3, wh=warehouse("MAIN"), sku="MUG")
    admin = UserFactory(username="admin")
    assert states(admin)["tools"] is False  # the store has neither synced nor reconciled yet

    # when: the demo's first runs, once the demo is committed
    with django_capture_on_commit_callbacks(execute=True):
        seed_first_runs()
    lines = first_runs()  # what the callback ran is done: nothing more to run

    # then: every step is done, and the section is gone from the home
    assert lines == []
    assert all(setup.done for setup in active_connections_setup())
    assert states(admin) == dict.fromkeys(ALL_STEPS, True)
    assert 'id="getting-started"' not in home(admin)
