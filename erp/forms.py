"""Form pieces every app shares.

Dates are ISO everywhere (yyyy-mm-dd), as the app shows them. A browser's ``<input type="date">``
shows the format of the browser's locale (mm/dd/yyyy in an American Chrome) whatever the page's
``lang`` says, so dates are typed in a text box that asks for yyyy-mm-dd (placeholder, pattern,
numeric keyboard on a phone) and the server reads that format only, with a message that shows it.
Every form's date field uses ``DateField`` (or at least ``DateInput``); a filter typed in a template
uses ``{% date_input %}`` (erp/templatetags/erp_dates.py), which renders the same widget.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms

ISO_DATE = "%Y-%m-%d"
ISO_PATTERN = r"\d{4}-\d{2}-\d{2}"
ISO_HINT = "yyyy-mm-dd"


class DateInput(forms.DateInput):
    """A date typed as yyyy-mm-dd, shown as yyyy-mm-dd, whatever the browser's locale."""

    input_type = "text"

    def __init__(self, attrs: dict[str, Any] | None = None, format: str | None = None) -> None:
        defaults = {
            "placeholder": ISO_HINT,
            "pattern": ISO_PATTERN,
            "inputmode": "numeric",
            "maxlength": "10",
            "autocomplete": "off",
            "title": f"A date as {ISO_HINT}",
            "class": "date-input",
        }
        if attrs and "class" in attrs:
            attrs = {**attrs, "class": f"date-input {attrs['class']}"}
        super().__init__({**defaults, **(attrs or {})}, format=format or ISO_DATE)


class DateField(forms.DateField):
    """A date field that reads yyyy-mm-dd only (03/04/2026 is ambiguous) and says so when it cannot."""

    widget = DateInput
    input_formats = [ISO_DATE]
    default_error_messages = {"invalid": f"Enter the date as {ISO_HINT}, e.g. 2026-03-31."}


def date_text(value: Any) -> str:
    """A value as a date input shows it: a date as yyyy-mm-dd, anything else (what was typed) as it is."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.strftime(ISO_DATE)
    return "" if value is None else str(value)
