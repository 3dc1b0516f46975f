"""Admin of the sales master data: customers (with addresses and contacts) and channels.

Admins edit them here, and even those saves go through the services, so that the events
connectors listen to are recorded.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from erp.admin_readonly import HistoryAdmin
from sales.models import Address, Contact, Customer, SalesChannel
from sales.selectors import customer_list
from sales.services import channel_create, channel_update, customer_create, customer_update
from sales.services.masterdata import CUSTOMER_FIELDS

AUDIT_FIELDS = ("created_at", "updated_at", "created_by", "updated_by")


def _sync_instance(target: Any, saved: Any) -> None:
    """Make the form's instance the row a service saved, so that inlines attach to it."""
    for f in saved._meta.concrete_fields:
        setattr(target, f.attname, getattr(saved, f.attname))
    target._state.adding = False
    target._state.db = saved._state.db


# --- customers ---------------------------------------------------------------------------


class AddressFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        defaults: set[str] = set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("is_default"):
                continue
            if data["kind"] in defaults:
                raise forms.ValidationError(f"Only one {data['kind']} address can be the default.")
            defaults.add(data["kind"])


class AddressInline(admin.TabularInline):
    model = Address
    formset = AddressFormSet
    extra = 0
    fields = (
        "kind",
        "is_default",
        "name",
        "company",
        "line1",
        "line2",
        "city",
        "region",
        "postal_code",
        "country",
    )


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("name", "role", "email", "phone")


@admin.register(Customer)
class CustomerAdmin(HistoryAdmin):
    list_display = (
        "code",
        "name",
        "kind",
        "email",
        "currency",
        "payment_terms",
        "tax_exempt",
        "open_balance",
        "is_active",
    )
    list_filter = ("kind", "payment_terms", "tax_exempt", "currency", "is_active")
    search_fields = ("code", "name", "email", "phone", "tax_id", "contacts__name", "contacts__email")
    readonly_fields = AUDIT_FIELDS
    inlines = [AddressInline, ContactInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return customer_list()  # with the open balance, in one query

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("code", *AUDIT_FIELDS) if obj else AUDIT_FIELDS

    @admin.display(description="open balance", ordering="open_balance")
    def open_balance(self, obj: Customer) -> Any:
        return getattr(obj, "open_balance", None)

    def save_model(self, request: HttpRequest, obj: Customer, form: forms.ModelForm, change: bool) -> None:
        values = {f: v for f, v in form.cleaned_data.items() if f in CUSTOMER_FIELDS}
        if change:
            changed = {f: values[f] for f in form.changed_data if f in values}
            if changed:
                _sync_instance(obj, customer_update(customer=obj, user=request.user, **changed))
            return
        active = values.pop("is_active", True)
        saved = customer_create(code=form.cleaned_data.get("code", ""), user=request.user, **values)
        if not active:
            saved = customer_update(customer=saved, user=request.user, is_active=False)
        _sync_instance(obj, saved)


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ("customer", "kind", "is_default", "name", "line1", "city", "postal_code", "country")
    list_filter = ("kind", "is_default", "country")
    search_fields = ("customer__name", "customer__code", "name", "company", "line1", "city", "postal_code")
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "customer", "role", "email", "phone")
    search_fields = ("name", "email", "phone", "customer__name", "customer__code")
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)


# --- channels ----------------------------------------------------------------------------


class ChannelForm(forms.ModelForm):
    class Meta:
        model = SalesChannel
        fields = (
            "code",
            "name",
            "kind",
            "warehouse",
            "currency",
            "prices_include_tax",
            "invoice_policy",
            "is_active",
        )

    def clean_code(self) -> str:
        code = str(self.cleaned_data["code"]).strip().lower()  # as channel_create stores it
        if SalesChannel.objects.filter(code=code).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"Channel {code} exists already.")
        return code


@admin.register(SalesChannel)
class SalesChannelAdmin(HistoryAdmin):
    form = ChannelForm
    list_display = (
        "code",
        "name",
        "kind",
        "warehouse",
        "currency",
        "prices_include_tax",
        "invoice_policy",
        "is_active",
    )
    list_filter = ("kind", "invoice_policy", "prices_include_tax", "is_active", "warehouse")
    search_fields = ("code", "name")
    list_select_related = ("warehouse",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("code", *AUDIT_FIELDS) if obj else AUDIT_FIELDS

    def save_model(
        self, request: HttpRequest, obj: SalesChannel, form: forms.ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        if change:
            changed = {f: data[f] for f in form.changed_data if f in data and f != "code"}
            if changed:
                _sync_instance(obj, channel_update(channel=obj, user=request.user, **changed))
            return
        saved = channel_create(
            code=data["code"],
            name=data["name"],
            warehouse=data["warehouse"],
            kind=data["kind"],
            currency=data["currency"],
            prices_include_tax=data["prices_include_tax"],
            invoice_policy=data["invoice_policy"],
            user=request.user,
        )
        if not data.get("is_active", True):
            saved = channel_update(channel=saved, user=request.user, is_active=False)
        _sync_instance(obj, saved)
