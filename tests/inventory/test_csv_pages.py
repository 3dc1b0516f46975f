"""The CSV import and export pages: who may use them, preview then confirm (a background job whose
page shows the outcome), errors shown, streamed exports."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import StreamingHttpResponse
from django.test import Client

from erp.models import Job
from inventory.models import Product, StockLevel, StockMove
from inventory.services import lot_get_or_create, product_create, stock_receive
from tests.erp.factories import UserFactory
from tests.inventory.csv_support import (
    STOCK_HEADER,
    csv_text,
    site_fixture,  # noqa: F401  (a fixture)
)
from tests.inventory.factories import CategoryFactory, ProductFactory, bin_of, warehouse
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db
D = Decimal


def upload(client: Client, kind: str, text: str, **extra):
    file = SimpleUploadedFile(f"{kind}.csv", text.encode("utf-8"), content_type="text/csv")
    return client.post("/inventory/io/preview/", {"kind": kind, "file": file}, **extra)


def job_page(client: Client, response) -> tuple[Job, str]:
    """The job a confirmation started (htmx: HX-Redirect; otherwise a redirect), and its page."""
    url = response["HX-Redirect"] if response.status_code == 204 else response["Location"]
    assert url.startswith("/jobs/"), url
    job = Job.objects.get(pk=int(url.strip("/").split("/")[-1]))
    page = client.get(url)
    assert page.status_code == 200
    return job, page.content.decode()


def test_sales_can_open_the_page_and_export_but_not_import(client: Client):
    client.force_login(UserFactory(roles=["Sales"]))

    page = client.get("/inventory/io/")
    refused = upload(client, "products", "sku,name\nX,Y\n")
    refused_apply = client.post("/inventory/io/apply/", {"token": "t"})

    assert page.status_code == 200
    assert b"Importing needs the Inventory (write) right" in page.content
    assert b'href="/inventory/io/export/products.csv"' in page.content
    assert refused.status_code == 403
    assert refused_apply.status_code == 403
    assert client.get("/inventory/io/export/products.csv").status_code == 200
    assert not Product.objects.filter(sku="X").exists()


def test_anonymous_users_are_sent_to_login(client: Client):
    assert client.get("/inventory/io/export/stock-levels.csv").status_code == 302


def test_upload_preview_confirm_imports_in_a_job_whose_page_says_how_it_went(client: Client):
    # given
    client.force_login(UserFactory(roles=["Warehouse"]))
    ProductFactory(sku="KEEP", name="Keep", sale_price=D("1"))
    text = csv_text("sku,name,sale_price", "KEEP,Keep,1", "NEW-1,Lamp,30", "NEW-2,Shade,12")

    # when: the preview (htmx fragment) writes nothing
    preview = upload(client, "products", text, HTTP_HX_REQUEST="true")

    # then
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "<html" not in html
    assert "Import 2 rows" in html
    assert "1 unchanged row will be skipped" in html
    assert not Product.objects.filter(sku="NEW-1").exists()
    token = client.session[csv_io_session_key()]["token"]
    assert f'value="{token}"' in html

    # when: confirmed
    applied = client.post("/inventory/io/apply/", {"token": token}, HTTP_HX_REQUEST="true")

    # then: htmx goes to the job's page, which says how it went
    assert applied.status_code == 204
    job, page = job_page(client, applied)
    assert (job.kind, job.state, job.done, job.total) == ("csv_import", "done", 3, 3)
    assert "Imported products: 2 created, 0 updated, 1 unchanged. From products.csv." in page
    assert job.result["counts"] == {"Created": 2, "Updated": 0, "Unchanged": 1}
    assert "text" not in job.params  # the file is not kept once read
    assert Product.objects.filter(sku__in=["NEW-1", "NEW-2"]).count() == 2
    assert csv_io_session_key() not in client.session
    # a second confirm of the same preview imports nothing
    again = client.post("/inventory/io/apply/", {"token": token}, HTTP_HX_REQUEST="true")
    assert json.loads(again["HX-Trigger"])["toast"]["level"] == "error"


def csv_io_session_key() -> str:
    from inventory.views.import_export import SESSION_KEY

    return SESSION_KEY


def test_without_javascript_confirm_redirects_to_the_job_page(client: Client):
    client.force_login(UserFactory(roles=["Warehouse"]))

    preview = upload(client, "products", "sku,name\nLAMP,Lamp\n")
    assert b"<html" in preview.content
    token = client.session[csv_io_session_key()]["token"]
    applied = client.post("/inventory/io/apply/", {"token": token}, follow=True)

    job = Job.objects.get()
    assert applied.redirect_chain == [(f"/jobs/{job.pk}/", 302)]
    assert b"Imported products: 1 created" in applied.content
    assert Product.objects.filter(sku="LAMP").exists()


def test_a_file_with_errors_is_previewed_with_them_and_cannot_be_confirmed(client: Client):
    client.force_login(UserFactory(roles=["Warehouse"]))

    preview = upload(client, "products", csv_text("sku,name,unit", "OK,Fine,pcs", "BAD,Bad,crate"))

    html = preview.content.decode()
    assert 'id="io-row-3" class="error"' in html
    assert "Unknown unit “crate”" in html
    assert "Import 1 row" not in html
    assert "Nothing can be imported while the file has errors" in html
    assert csv_io_session_key() not in client.session


def test_confirm_parses_the_file_again_against_current_data(client: Client):
    # given a valid preview, then N1 is created by someone else
    client.force_login(UserFactory(roles=["Warehouse"]))
    upload(client, "products", csv_text("sku,name", "N1,One", "N2,Two"))
    token = client.session[csv_io_session_key()]["token"]
    product_create(sku="N1", name="Meanwhile")

    # when
    response = client.post("/inventory/io/apply/", {"token": token}, HTTP_HX_REQUEST="true")

    # then: the fresh plan updates N1 instead of failing to create it
    job, page = job_page(client, response)
    assert job.state == "done"
    assert "Imported products: 1 created, 1 updated, 0 unchanged." in page
    assert Product.objects.get(sku="N1").name == "One"


def test_confirm_refuses_when_the_file_no_longer_validates(client: Client):
    # given a valid preview, then its barcode is given to another product
    client.force_login(UserFactory(roles=["Warehouse"]))
    upload(client, "products", csv_text("sku,name,barcodes", "N1,One,123"))
    token = client.session[csv_io_session_key()]["token"]
    product_create(sku="OTHER", name="Other", barcodes=["123"])

    # when
    response = client.post("/inventory/io/apply/", {"token": token}, HTTP_HX_REQUEST="true")

    # then: the job fails, and its page names the row and why
    job, page = job_page(client, response)
    assert job.state == "failed"
    assert job.error == "The data changed since the preview; nothing was imported."
    assert job.error in page
    assert "Row 2" in page
    assert "Barcode 123 belongs to OTHER." in page
    assert not Product.objects.filter(sku="N1").exists()


def test_a_row_the_ledger_refuses_is_highlighted_and_nothing_is_imported(client: Client, site):
    # given serial SN-1 already in A-01; the file puts it in Stock too
    client.force_login(UserFactory(roles=["Warehouse"]))
    phone = ProductFactory(sku="PHONE", tracking="serial")
    ProductFactory(sku="NUT")
    stock_receive(
        product=phone,
        location=site["a1"],
        quantity=1,
        unit_cost=1,
        lot=lot_get_or_create(product=phone, code="SN-1"),
    )
    upload(client, "stock", csv_text(STOCK_HEADER, "NUT,WH1,,5,1,,", "PHONE,WH1,Stock,1,300,SN-1,"))
    token = client.session[csv_io_session_key()]["token"]

    # when (without htmx: a redirect to the job's page)
    response = client.post("/inventory/io/apply/", {"token": token})

    # then: the job failed at row 3, where it stopped, and rolled row 2 back
    job, html = job_page(client, response)
    assert response.status_code == 302
    assert (job.state, job.done, job.total) == ("failed", 1, 2)
    assert "Row 3: Serial SN-1 of PHONE is already in stock. Nothing was imported." in html
    assert job.result["errors"] == [
        {"where": "Row 3", "message": "Serial SN-1 of PHONE is already in stock."}
    ]
    assert not StockMove.objects.filter(product__sku="NUT").exists()


def test_opening_stock_through_the_page(client: Client, site):
    client.force_login(UserFactory(roles=["Warehouse"]))
    ProductFactory(sku="BOLT")

    upload(client, "stock", csv_text(STOCK_HEADER, "BOLT,WH1,A-01,5,2.00,,"), HTTP_HX_REQUEST="true")
    token = client.session[csv_io_session_key()]["token"]
    response = client.post("/inventory/io/apply/", {"token": token}, HTTP_HX_REQUEST="true")

    job, page = job_page(client, response)
    assert "Imported stock levels: 1 created" in page
    assert job.result["counts"] == {"Received": 1, "Adjusted": 0, "Unchanged": 0}
    assert StockLevel.objects.get(product__sku="BOLT", location=site["a1"]).on_hand == 5


def test_an_upload_that_is_not_utf8_is_refused_with_a_message(client: Client):
    client.force_login(UserFactory(roles=["Warehouse"]))
    file = SimpleUploadedFile("p.csv", "sku,name\nX,Crème\n".encode("utf-16"), content_type="text/csv")

    response = client.post("/inventory/io/preview/", {"kind": "products", "file": file})

    assert response.status_code == 422
    assert b"not UTF-8" in response.content


def streamed(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode("utf-8")


def test_exports_stream_at_a_constant_number_of_queries(client: Client, site):
    # given
    client.force_login(UserFactory(roles=["Sales"]))
    apparel = CategoryFactory(name="Apparel")
    counter = iter(range(1000))

    def grow(n: int) -> None:
        for _ in range(n):
            i = next(counter)
            product = product_create(
                sku=f"P-{i:04d}", name=f"P {i}", category=apparel, barcodes=[f"B{i}", f"C{i}"]
            )
            stock_receive(product=product, location=site["a1"], quantity=2, unit_cost=1)

    grow(5)

    def export_both() -> None:
        streamed(client.get("/inventory/io/export/products.csv"))
        streamed(client.get("/inventory/io/export/stock-levels.csv"))

    # then
    assert_constant_queries(export_both, lambda: grow(45))
    products = streamed(client.get("/inventory/io/export/products.csv")).splitlines()
    levels = streamed(client.get("/inventory/io/export/stock-levels.csv")).splitlines()
    assert len(products) == 51
    assert len(levels) == 51
    assert "P-0049,P 49,,Apparel,stocked,pcs,0.00,USD,none,B49|C49,,yes" in products


def test_exports_take_the_list_filters(client: Client, site):
    client.force_login(UserFactory(roles=["Sales"]))
    product_create(sku="MUG-1", name="Mug")
    product_create(sku="LAMP-1", name="Lamp")
    other = warehouse("WH2")
    stock_receive(product=Product.objects.get(sku="MUG-1"), location=site["stock"], quantity=1, unit_cost=1)
    stock_receive(product=Product.objects.get(sku="LAMP-1"), location=bin_of(other), quantity=1, unit_cost=1)

    products = streamed(client.get("/inventory/io/export/products.csv", {"q": "mug", "ordering": "-on_hand"}))
    levels = streamed(client.get("/inventory/io/export/stock-levels.csv", {"warehouse": other.pk}))

    assert "MUG-1" in products
    assert "LAMP-1" not in products
    assert "LAMP-1" in levels
    assert "MUG-1" not in levels
