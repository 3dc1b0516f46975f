"""Issue #21, defect 7: date inputs showed mm/dd/yyyy (the browser's locale) while the app shows ISO.
Every date is typed as yyyy-mm-dd in one shared widget (erp.forms.DateInput); the browser check is
tests/browser/test_layout.py::test_date_inputs_show_iso."""

from __future__ import annotations

import datetime
import inspect
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.template import Context, Template

import manufacturing.forms
import procurement.forms
import sales.forms
from erp.forms import DateField, DateInput

FORM_MODULES = (sales.forms, procurement.forms, manufacturing.forms)


def date_fields():
    for module in FORM_MODULES:
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                for field_name, field in cls.base_fields.items():
                    if isinstance(field, forms.DateField):
                        yield f"{module.__name__}.{name}.{field_name}", field


def test_every_form_date_field_uses_the_shared_iso_widget():
    found = dict(date_fields())
    assert len(found) >= 6, sorted(found)  # paid on, expected, bill date, MO start/finish, horizon...
    for name, field in found.items():
        assert isinstance(field.widget, DateInput), name
        assert field.widget.input_type == "text", name
        assert field.widget.attrs["placeholder"] == "yyyy-mm-dd", name


def test_no_template_draws_a_browser_date_input():
    offenders = [
        str(path.relative_to(settings.BASE_DIR))
        for path in Path(settings.BASE_DIR).glob("*/templates/**/*.html")
        if 'type="date"' in path.read_text(encoding="utf-8")
    ]
    offenders += [
        str(path)
        for path in (Path(settings.BASE_DIR) / "templates").glob("**/*.html")
        if 'type="date"' in path.read_text()
    ]
    assert offenders == []


def test_the_field_reads_iso_and_refuses_the_ambiguous_form_with_a_message_showing_iso():
    field = DateField()
    assert field.clean("2026-03-04") == datetime.date(2026, 3, 4)
    with pytest.raises(forms.ValidationError, match="yyyy-mm-dd"):
        field.clean("03/04/2026")


def test_a_value_shows_as_iso():
    html = DateInput().render("paid_at", datetime.date(2026, 1, 5))
    assert 'type="text"' in html
    assert 'value="2026-01-05"' in html
    assert 'pattern="\\d{4}-\\d{2}-\\d{2}"' in html


def test_the_template_tag_draws_the_same_widget():
    html = Template(
        '{% load erp_dates %}{% date_input "since" value id="f-since" aria_label="From" %}'
    ).render(Context({"value": "2026-02-01"}))
    for attribute in ('name="since"', 'id="f-since"', 'aria-label="From"', 'value="2026-02-01"'):
        assert attribute in html
    assert 'placeholder="yyyy-mm-dd"' in html
