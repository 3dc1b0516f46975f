"""Background jobs in a real browser: a CSV import of 200 rows started from its preview, its
progress bar moving on the job's page, the person leaving to the dashboard and coming back from
Jobs to the result.

On PostgreSQL the job runs as in the embedded mode, in a thread of the server, each row slowed a
little so that the bar is seen between its ends; on SQLite (an in-memory test database, where a
second connection would wait on the job's transaction) it runs in the request, and the page shows
its end."""

from __future__ import annotations

import re
import time

import pytest
from django.db import connection
from playwright.sync_api import expect

from erp import jobs
from erp.models import Job
from inventory.models import Product
from tests.browser.conftest import login
from tests.erp.factories import UserFactory
from tests.inventory.factories import unit

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 200


def lamps_csv() -> bytes:
    lines = ["sku,name,sale_price,description"]
    lines += [
        f"LAMP-{i:03d},Desk lamp {i} with a long name that a list would cut,{10 + i % 50},Warm white"
        for i in range(ROWS)
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def clerk():
    unit("pcs")  # transactional tests flush what the migrations created
    return UserFactory(username="wendy", password="s3cret-pass", roles=["Warehouse"], first_name="Wendy")


@pytest.fixture
def in_the_background(settings, monkeypatch):
    """PostgreSQL: jobs in a thread of the server, as without a broker; each row takes 25 ms."""
    if connection.vendor != "postgresql":
        return False
    settings.JOBS_INLINE = False  # no broker in the tests: a thread
    advance = jobs.Progress.advance

    def slowly(self: jobs.Progress, k: int = 1) -> None:
        time.sleep(0.025)
        advance(self, k)

    monkeypatch.setattr(jobs.Progress, "advance", slowly)
    return True


def test_an_import_of_200_rows_shows_its_progress_and_its_result_after_leaving(
    page, screenshot, clerk, in_the_background
):
    login(page, "wendy", "s3cret-pass")
    page.goto("/inventory/io/")
    page.set_input_files(
        "#io-products-file", files=[{"name": "lamps.csv", "mimeType": "text/csv", "buffer": lamps_csv()}]
    )
    page.get_by_role("button", name="Preview products").click()
    expect(page.get_by_role("button", name=f"Import {ROWS} rows")).to_be_visible()

    # when: confirmed, the browser is on the job's page
    page.get_by_role("button", name=f"Import {ROWS} rows").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    job = Job.objects.get()
    bar = page.locator("progress.job-bar")
    expect(bar).to_be_visible()
    if in_the_background:
        # then: the bar moves, between its ends, the step saying which row
        expect(page.locator("#job-progress")).to_have_attribute("data-state", "running")
        page.wait_for_function(
            "() => { const b = document.querySelector('progress.job-bar');"
            " return b && b.max == 200 && b.value > 0 && b.value < 200; }"
        )
        expect(page.locator(".job-step")).to_contain_text(
            re.compile(r"Row \d+: LAMP-\d+ \(new stocked product\)")
        )
        screenshot("jobs-import-running")
        page.set_viewport_size({"width": 390, "height": 844})
        screenshot("jobs-import-running-phone", full_page=False)
        page.set_viewport_size({"width": 1440, "height": 900})
        # the person leaves while it runs
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
        page.wait_for_url("**/")
    else:
        expect(page.locator("#job-progress")).to_have_attribute("data-state", "done")
        screenshot("jobs-import-done-at-once")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
        page.wait_for_url("**/")

    # when: back from Jobs
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    row = page.locator("table.job-list tbody tr", has_text="Import products: lamps.csv")
    expect(row).to_be_visible()
    screenshot("jobs-list")
    row.get_by_role("link", name="Import products: lamps.csv").click()

    # then: the result, once done (the page polls until then, then stops)
    expect(page.locator("#job-progress")).to_have_attribute("data-state", "done", timeout=30_000)
    expect(page.locator(".job-summary")).to_have_text(
        f"Imported products: {ROWS} created, 0 updated, 0 unchanged. From lamps.csv."
    )
    expect(page.locator("#job-progress")).not_to_have_attribute("hx-trigger", re.compile("every"))
    expect(page.locator(".job-figures")).to_contain_text(f"{ROWS} / {ROWS}")
    screenshot("jobs-import-done")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("jobs-import-done-phone")
    page.get_by_role("link", name="Open the result").click()
    page.wait_for_url("**/inventory/products/")
    assert Product.objects.filter(sku__startswith="LAMP-").count() == ROWS
    job.refresh_from_db()
    assert (job.state, job.done, job.total) == ("done", ROWS, ROWS)
    assert page.js_errors == []


def test_a_failed_import_shows_its_row_and_the_simulated_day_form(page, screenshot, settings, clerk):
    # given: a stock file whose second row the ledger refuses (a serial already in stock)
    from inventory import services
    from tests.inventory.factories import warehouse

    wh = warehouse("WH1")
    phone = services.product_create(sku="PHONE", name="Phone", tracking="serial")
    services.product_create(sku="NUT", name="Nut")
    lot = services.lot_get_or_create(product=phone, code="SN-1")
    shelf = services.location_create(parent=services.warehouse_root(wh), name="A-01")
    services.stock_receive(product=phone, location=shelf, quantity=1, unit_cost=1, lot=lot)  # the file: Stock
    text = (
        "sku,warehouse,location,quantity,unit_cost,lot,expiry_date\nNUT,WH1,,5,1,,\nPHONE,WH1,,1,300,SN-1,\n"
    )
    login(page, "wendy", "s3cret-pass")
    page.goto("/inventory/io/")
    page.set_input_files(
        "#io-stock-file", files=[{"name": "stock.csv", "mimeType": "text/csv", "buffer": text.encode()}]
    )
    page.get_by_role("button", name="Preview opening stock").click()
    page.get_by_role("button", name="Import 2 rows").click()

    # then: the job's page says which row stopped it, and that nothing was imported
    expect(page.locator("#job-progress")).to_have_attribute("data-state", "failed", timeout=30_000)
    expect(page.get_by_role("alert")).to_contain_text("Row 3: Serial SN-1 of PHONE is already in stock.")
    expect(page.locator("table.job-errors")).to_contain_text("Row 3")
    screenshot("jobs-import-failed")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("jobs-import-failed-phone")

    # and: the simulated day's form, for who may write every area, where the demo fakes are on
    settings.ERP_DEMO_FAKES = True
    UserFactory(username="root", password="s3cret-pass", is_superuser=True, is_staff=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_role("button", name="Log out").click()
    login(page, "root", "s3cret-pass")
    page.goto("/integrations/")
    page.get_by_role("link", name="Run a simulated day").click()
    expect(page.get_by_role("heading", name="Run a simulated day")).to_be_visible()
    expect(page.get_by_label("Shopify")).to_be_checked()
    screenshot("jobs-simulate-form")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("jobs-simulate-form-phone")
    assert page.js_errors == []
