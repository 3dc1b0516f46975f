"""Printed documents as PDF: the HTML of a print page, rendered by WeasyPrint.

The same template serves the browser (HTML, printed with the browser's print dialog) and the PDF:
WeasyPrint lays it out with the print media rules, plus ``PDF_CSS`` (fonts that exist on a Debian
machine, page numbers in the page margin). Nothing is fetched from the network while rendering:
the URL fetcher serves our own static files from disk and ``data:`` URLs, and refuses anything
else (a refused URL is logged by WeasyPrint and left out of the document; the PDF still renders).

WeasyPrint needs pango (libpango-1.0-0, libpangoft2-1.0-0) and a font (fonts-dejavu-core): .ci/run
installs them on a fresh machine.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

# WeasyPrint logs every step at INFO and every CSS rule it does not support (media queries for
# screens, sticky headers) at WARNING; what matters, a resource it could not load, is an ERROR.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("weasyprint.progress").setLevel(logging.ERROR)

# The origin relative URLs of a print page resolve against while it is rendered to PDF. It names no
# real host: only its static path is ever served (from disk), so no request leaves the process.
BASE_URL = "http://erp.pdf.invalid/"

PDF_CSS = """
html, body, :root {
  font-family: "DejaVu Sans", "Liberation Sans", "Noto Sans", Arial, Helvetica, sans-serif !important;
}
.mono, .number, code, kbd, samp {
  font-family: "DejaVu Sans Mono", "Liberation Mono", "Noto Sans Mono", monospace !important;
}
.toolbar, .no-pdf { display: none !important; }
@page {
  @bottom-right {
    content: string(doc-ref) "  ·  page " counter(page) " of " counter(pages);
    font: 8.5pt "DejaVu Sans", sans-serif;
    color: #666;
  }
}
[data-doc-ref] { string-set: doc-ref attr(data-doc-ref); }
"""


class PdfFetchRefused(ValueError):
    """A print page asked for a resource that is not one of our static files."""


def static_path(url: str) -> Path | None:
    """The file on disk that a URL of our static files names, else None."""
    parts = urlsplit(url)
    static_prefix = "/" + str(settings.STATIC_URL).lstrip("/")
    base = urlsplit(BASE_URL)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
        return None
    path = unquote(parts.path)
    if not path.startswith(static_prefix) or ".." in path.split("/"):
        return None
    relative = path[len(static_prefix) :]
    found = finders.find(relative)
    if found:
        return Path(found if isinstance(found, str) else found[0])
    collected = Path(settings.STATIC_ROOT) / relative
    return collected if collected.is_file() else None


def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse  # imported on use: it loads pango

    class StaticOnlyFetcher(URLFetcher):
        """Serves our static files and data: URLs; refuses everything else (no network)."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            path = static_path(url)
            if path is None:
                raise PdfFetchRefused(f"not fetched while rendering a PDF: {url}")
            mime, _ = mimetypes.guess_type(path.name)
            return URLFetcherResponse(
                url, path.read_bytes(), {"Content-Type": mime or "application/octet-stream"}
            )

    return StaticOnlyFetcher(allowed_protocols={"data", "http"})


def html_to_pdf(html: str) -> bytes:
    """The PDF of a print page's HTML (A4 unless the page's CSS says otherwise)."""
    from weasyprint import CSS, HTML

    fetcher = _fetcher()
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
    pdf = document.write_pdf(stylesheets=[CSS(string=PDF_CSS, url_fetcher=fetcher)])
    assert pdf is not None  # write_pdf without a target returns the bytes
    return bytes(pdf)


def render_pdf(template: str, context: dict[str, Any], request: HttpRequest | None = None) -> bytes:
    """A print template rendered to PDF, with ``pdf`` set in its context."""
    return html_to_pdf(render_to_string(template, {**context, "pdf": True}, request=request))


def pdf_response(pdf: bytes, filename: str, *, download: bool = False) -> HttpResponse:
    """The PDF as an answer, shown in the browser (or downloaded) under a file name like INV-0042.pdf."""
    response = HttpResponse(pdf, content_type="application/pdf")
    disposition = "attachment" if download else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{pdf_filename(filename)}"'
    response["Content-Length"] = str(len(pdf))
    return response


def pdf_filename(name: str) -> str:
    """A safe file name: INV-0042 -> INV-0042.pdf; anything but letters, digits, - and _ becomes -."""
    stem = name[:-4] if name.lower().endswith(".pdf") else name
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem).strip("-") or "document"
    return f"{safe}.pdf"


def wants_pdf(request: HttpRequest) -> bool:
    """``?format=pdf`` on a print URL asks for the PDF."""
    return request.GET.get("format", "").lower() == "pdf"
