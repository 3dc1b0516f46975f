"""``{% date_input name value id="f-since" %}``: a date box in a template (a list's filter) drawn by
the same widget as every form's date field (erp.forms.DateInput): yyyy-mm-dd, whatever the locale."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from erp.forms import DateInput, date_text

register = template.Library()


@register.simple_tag
def date_input(name: str, value: Any = "", **attrs: Any) -> SafeString:
    """Extra keyword arguments become attributes; underscores turn into dashes (aria_label=...)."""
    html_attrs = {key.replace("_", "-"): str(val) for key, val in attrs.items() if val is not None}
    return DateInput().render(name, date_text(value) or None, attrs=html_attrs)
