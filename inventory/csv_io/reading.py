"""Reading a file into rows, through tablib: a CSV file or an Excel workbook (.xlsx).

* CSV: UTF-8 with or without a byte-order mark (checked here, so that a file in another encoding
  is refused with a message people can act on); ``,`` or ``;`` separated, sniffed from the header
  line. In a ``;``-separated file numbers may have a decimal comma (``Table.comma_decimal``).
* XLSX: recognised by its content (a zip archive), whatever the file is called; the sheet that
  was open when it was saved. Numbers, dates and yes/no cells become the text the columns read
  (``cell_text``).

The first row names the columns (ignoring case; ``aliases`` renames some). Rows are numbered as
in the file, the header being row 1; rows with no value are skipped. tablib skips a CSV line
that is completely empty without counting it, and refuses a CSV row with more cells than the
header: that is a file error naming the row. Blank cells past the header's last column, which
spreadsheet exports often write, are dropped first (``trim_blank_tails``), so only a row with
a value out there is refused.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any, TypeGuard

import tablib

from erp.exceptions import ValidationFailed
from inventory.csv_io.plan import ImportPlan

MAX_ROWS = 50_000
XLSX_SIGNATURE = b"PK\x03\x04"  # an .xlsx file is a zip archive
EXTRA = "__extra__"  # the cells of a row past the last column of the header

Source = bytes | str | IO[bytes] | IO[str]


def read_upload(source: Source) -> str | bytes:
    """What ``parse`` takes, as it can be kept between a preview and its confirmation: an Excel
    workbook's bytes as they are, any other file as its text (ValidationFailed if not UTF-8)."""
    raw = source.read() if hasattr(source, "read") else source
    if is_xlsx(raw):
        return bytes(raw)
    return decode(raw)


def is_xlsx(raw: object) -> TypeGuard[bytes | bytearray]:
    """An Excel workbook's bytes (by their signature, whatever the file is called)."""
    return isinstance(raw, bytes | bytearray) and raw.startswith(XLSX_SIGNATURE)


def decode(source: Source) -> str:
    """The file's text: UTF-8, with or without a byte-order mark."""
    raw = source.read() if hasattr(source, "read") else source
    if isinstance(raw, str):
        return raw.removeprefix("\ufeff")
    try:
        return bytes(raw).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            f"The file is not UTF-8 text (byte {exc.start}); save it as “CSV UTF-8”.",
            field_errors={"file": ["Not UTF-8 text."]},
        ) from exc


def sniff_delimiter(text: str) -> str:
    """``;`` when the header line has more semicolons than commas, else ``,``."""
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def cell_text(value: Any) -> str:
    """A cell as the text the columns read: a whole number without ``.0`` (a barcode or a quantity
    typed as a number), a date as 2025-12-31, nothing as ""."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value).strip()


@dataclass
class Table:
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (row number, cells by column)
    comma_decimal: bool = False  # a ;-separated CSV: numbers may have a decimal comma


def read_table(plan: ImportPlan, source: Source, aliases: dict[str, str] | None = None) -> Table:
    """The file's columns and rows; what makes it unreadable goes to ``plan.file_errors``."""
    raw = source.read() if hasattr(source, "read") else source
    table = Table(columns=[], rows=[])
    if is_xlsx(raw):
        dataset = _load(plan, bytes(raw), format="xlsx")
    else:
        text = decode(raw)
        delimiter = sniff_delimiter(text)
        table.comma_decimal = delimiter == ";"
        dataset = _load(plan, trim_blank_tails(text, delimiter), format="csv", delimiter=delimiter)
    if dataset is None:
        return table

    header = [cell_text(h) for h in dataset.headers or ()]
    if is_xlsx(raw):  # a sheet's rows are as wide as its widest row: the header ends at its last name
        while header and not header[-1]:
            header.pop()
    if not any(header):
        plan.file_errors.append("The file is empty: the first line must name the columns.")
        return table
    columns = [(aliases or {}).get(h.lower(), h.lower()) for h in header]
    doubled = sorted({c for c in columns if c and columns.count(c) > 1})
    if doubled:
        plan.file_errors.append(f"Columns named twice: {', '.join(doubled)}.")
        return table
    table.columns = columns
    for number, row in enumerate(dataset, start=2):
        cells = [cell_text(value) for value in row]
        if not any(cells):
            continue
        if len(table.rows) >= MAX_ROWS:
            plan.file_errors.append(f"More than {MAX_ROWS} rows: split the file.")
            return table
        values = {col: (cells[i] if i < len(cells) else "") for i, col in enumerate(columns) if col}
        extra = [c for c in cells[len(columns) :] if c]
        if extra:
            values[EXTRA] = "|".join(extra)
        table.rows.append((number, values))
    if not table.rows and not plan.file_errors:
        plan.file_errors.append("The file has a header but no rows.")
    return table


def trim_blank_tails(text: str, delimiter: str) -> str:
    """The CSV with each row's blank cells past the header's width removed ("a,b,," under a
    two-column header is "a,b"); rows with a value there are left as they are. Unchanged when
    no row has such cells, or when the text is not CSV (tablib then says why)."""
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error:
        return text
    if not rows:
        return text
    width = len(rows[0])
    if not any(len(row) > width and not any(c.strip() for c in row[width:]) for row in rows[1:]):
        return text
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    for row in rows:
        writer.writerow(row[:width] if len(row) > width and not any(c.strip() for c in row[width:]) else row)
    return out.getvalue()


def _load(plan: ImportPlan, content: str | bytes, **options: Any) -> tablib.Dataset | None:
    dataset = tablib.Dataset()
    try:
        return dataset.load(content, **options)
    except tablib.InvalidDimensions:
        width = len(dataset.headers or ())
        plan.file_errors.append(
            f"Row {dataset.height + 2} has more cells than the {width} columns of the header."
        )
    except csv.Error as exc:
        plan.file_errors.append(f"Row {dataset.height + 2}: the file is not valid CSV ({exc}).")
    except Exception as exc:
        if options["format"] != "xlsx":
            raise
        # openpyxl has many ways to say that a workbook is damaged: a bad zip, a missing part, ...
        plan.file_errors.append(f"The file is not an Excel workbook that can be read ({exc}).")
    return None


def check_columns(plan: ImportPlan, table: Table, known: Iterable[str], required: Iterable[str]) -> None:
    known = list(known)
    missing = [c for c in required if c not in table.columns]
    if missing:
        plan.file_errors.append(
            f"Missing column(s): {', '.join(missing)}. The columns are: {', '.join(known)}."
        )
    unknown = [c for c in table.columns if c and c not in known]
    if unknown:
        plan.warnings.append(f"Ignored column(s): {', '.join(unknown)}.")
    plan.columns = [c for c in table.columns if c in known]
