"""erp.pdf: HTML to PDF with WeasyPrint, our static files served from disk, nothing from the network."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from erp import pdf


def test_html_becomes_a_pdf_with_its_text_and_page_numbers():
    # given
    rows = "".join(f"<p>row {n}</p>" for n in range(150))
    html = f"<html><body><main data-doc-ref='INV-0042'><h1>INV-0042</h1>{rows}</main></body></html>"
    # when
    data = pdf.html_to_pdf(html)
    # then
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2
    assert "INV-0042" in reader.pages[0].extract_text()
    assert f"page 2 of {len(reader.pages)}" in reader.pages[1].extract_text()


def test_static_files_are_read_from_disk_and_other_urls_refused():
    # given
    fetcher = pdf._fetcher()
    # when
    served = fetcher(pdf.BASE_URL + "static/erp/app.css")
    # then
    assert b"{" in served.read()
    assert served.content_type == "text/css"
    for url in (
        "https://example.com/logo.png",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        pdf.BASE_URL + "static/../../etc/passwd",
        pdf.BASE_URL + "admin/",
    ):
        with pytest.raises(pdf.PdfFetchRefused):
            fetcher(url)


def test_a_page_asking_for_remote_resources_still_renders_without_them():
    # given: pytest-socket blocks the network, so a fetch attempt would fail the test loudly
    html = (
        "<html><head><link rel=stylesheet href='https://cdn.example.com/x.css'>"
        "<link rel=stylesheet href='/static/erp/app.css'></head>"
        "<body><img src='http://example.com/logo.png'><p>PO-00042</p></body></html>"
    )
    # when
    data = pdf.html_to_pdf(html)
    # then
    assert "PO-00042" in PdfReader(io.BytesIO(data)).pages[0].extract_text()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("INV-0042", "INV-0042.pdf"),
        ("INV-0042.pdf", "INV-0042.pdf"),
        ('a"b/c d', "a-b-c-d.pdf"),
        ("", "document.pdf"),
    ],
)
def test_file_names_are_safe(name, expected):
    assert pdf.pdf_filename(name) == expected
