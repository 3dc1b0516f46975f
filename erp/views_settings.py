"""Settings pages: the company's details (read by everyone, edited by superusers and Operations
managers) and the users with their roles (superusers only). The rules live in erp.company and
erp.users; these views parse the forms, call them and render.
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any, cast

from babel.numbers import get_currency_name
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_http_methods, require_POST

from erp import company as company_profile
from erp import users as people
from erp.access import ROLES
from erp.exceptions import DomainError
from erp.models import CompanyProfile, User
from erp.money import iso_currencies

PAGE_SIZE = 50
ROLE_CHOICES = [(role.name, role.name) for role in ROLES]
ROLE_DESCRIPTIONS = {role.name: role.description for role in ROLES}


@cache
def currency_choices() -> list[tuple[str, str]]:
    return [
        (code, f"{code} · {get_currency_name(code, locale='en_US')}") for code in sorted(iso_currencies())
    ]


@cache
def timezone_choices() -> list[tuple[str, str]]:
    names = sorted(name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC")
    return [("", "Not set: the server's time zone"), *((name, name.replace("_", " ")) for name in names)]


def _apply_errors(form: forms.Form, exc: DomainError, field_names: dict[str, str] | None = None) -> None:
    """A domain error onto the form: each field's messages on its field, the rest on top."""
    names = field_names or {}
    for field, problems in exc.field_errors.items():
        target = names.get(field, field)
        for problem in problems:
            form.add_error(target if target in form.fields else None, problem)
    if not exc.field_errors:
        form.add_error(None, exc.message)


def _forbidden(request: HttpRequest, missing: str) -> HttpResponse:
    return render(request, "403.html", {"missing": missing}, status=403)


# --- company ---------------------------------------------------------------------------------------


class CompanyForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="As printed on invoices and packing slips.")
    address = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Legal address",
        help_text="One line per line, as printed under the name.",
    )
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=50, required=False)
    tax_id = forms.CharField(max_length=50, required=False, label="Tax id", help_text="VAT number, EIN, ...")
    base_currency = forms.ChoiceField(
        label="Base currency", help_text="What stock is valued and amounts are reported in (ISO 4217)."
    )
    timezone = forms.ChoiceField(required=False, label="Time zone")

    def __init__(self, *args: Any, currency_locked: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        currency = cast(forms.ChoiceField, self.fields["base_currency"])
        currency.choices = currency_choices()
        cast(forms.ChoiceField, self.fields["timezone"]).choices = timezone_choices()
        if currency_locked:
            currency.disabled = True
            currency.help_text = currency_locked


def _company_initial(info: company_profile.CompanyInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "address": info.address,
        "email": info.email,
        "phone": info.phone,
        "tax_id": info.tax_id,
        "base_currency": info.base_currency,
        "timezone": info.timezone,
    }


@login_required
@require_http_methods(["GET", "POST"])
def company(request: HttpRequest) -> HttpResponse:
    info = company_profile.profile()
    editable = company_profile.may_edit(request.user)
    if request.method == "POST" and not editable:
        return _forbidden(request, "Superuser or Operations manager")
    locked = company_profile.currency_locked() if editable else None
    form = CompanyForm(request.POST or None, initial=_company_initial(info), currency_locked=locked)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            company_profile.company_profile_update(
                by=request.user,  # type: ignore[arg-type]
                name=data["name"],
                address=data["address"],
                email=data["email"],
                phone=data["phone"],
                tax_id=data["tax_id"],
                base_currency=data["base_currency"],
                timezone_name=data["timezone"],
            )
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Company details saved: letterheads print them from now on.")
            return redirect("settings-company")
    row = CompanyProfile.objects.select_related("updated_by").filter(pk=CompanyProfile.SINGLETON_PK).first()
    context = {
        "info": info,
        "form": form,
        "editable": editable,
        "currency_locked": locked,
        "row": row,
        "settings_currency": str(settings.ERP_BASE_CURRENCY),
        "tab": "company",
    }
    return render(request, "erp/settings/company.html", context)


# --- users -----------------------------------------------------------------------------------------


def superuser_only(view: Any) -> Any:
    """Signed in, then 403 (naming what is missing) unless a superuser."""

    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not people.may_manage_users(request.user):
            return _forbidden(request, "Superuser")
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


class RolesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ROLE_CHOICES, required=False, **kwargs)


class RolesMixin:
    def role_rows(self) -> list[tuple[Any, str]]:
        """Each role's checkbox with what the role may do (the forms' role grid)."""
        return [(box, ROLE_DESCRIPTIONS.get(box.data["value"], "")) for box in self["roles"]]  # type: ignore[index]


class InviteForm(RolesMixin, forms.Form):
    username = forms.CharField(max_length=150, help_text="What they sign in with: letters, digits and @.+-_")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False, help_text="Needed to mail the set-password link.")
    roles = RolesField(help_text="What they see and may do. A user without a role sees nothing.")
    send_email = forms.BooleanField(
        required=False, label="Email them the set-password link (else it is shown here, once)"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("send_email") and not data.get("email"):
            self.add_error("email", "Enter an email address to mail the link to.")
        return data


class RolesForm(RolesMixin, forms.Form):
    roles = RolesField()


@superuser_only
def users(request: HttpRequest) -> HttpResponse:
    page = Paginator(people.user_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "tab": "users", "roles": ROLES}
    template = (
        "erp/settings/users.html#rows" if getattr(request, "htmx", False) else "erp/settings/users.html"
    )
    return render(request, template, context)


def _issued(request: HttpRequest, user: User, send: bool) -> dict[str, Any]:
    """The set-password link, mailed when asked (else, or when the mail fails, shown once)."""
    link = people.set_password_link(request, user)
    if send:
        try:
            people.invitation_send(user=user, link=link, by=request.user)  # type: ignore[arg-type]
        except Exception as exc:  # the mail server's refusal, whatever its type: show the link instead
            return {"link": link, "mail_error": f"{type(exc).__name__}: {exc}"}
        return {"mailed_to": user.email}
    return {"link": link}


@superuser_only
@require_http_methods(["GET", "POST"])
def user_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "tab": "users", "role_descriptions": ROLE_DESCRIPTIONS}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invited = people.user_invite(
                by=request.user,  # type: ignore[arg-type]
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                roles=data["roles"],
            )
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            context.update(
                invited=invited, roles=data["roles"], **_issued(request, invited, data["send_email"])
            )
    response = render(request, "erp/settings/user_invite.html", context)
    if context.get("link"):
        response["Cache-Control"] = "no-store"  # the link lets anyone set the password: keep it out of caches
    return response


@superuser_only
@require_http_methods(["GET", "POST"])
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(people.user_list(), pk=pk)
    current = [group.name for group in person.roles]  # type: ignore[attr-defined]
    form = RolesForm(request.POST or None, initial={"roles": current})
    if request.method == "POST" and form.is_valid():
        try:
            people.user_roles_set(by=request.user, user=person, roles=form.cleaned_data["roles"])  # type: ignore[arg-type]
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            chosen = form.cleaned_data["roles"]
            messages.success(
                request, f"{person.username}: {', '.join(chosen) if chosen else 'no role (sees nothing)'}."
            )
            return redirect("settings-user", pk=person.pk)
    context = {
        "person": person,
        "form": form,
        "tab": "users",
        "role_descriptions": ROLE_DESCRIPTIONS,
        "is_self": person.pk == request.user.pk,
    }
    return render(request, "erp/settings/user_detail.html", context)


@superuser_only
@require_POST
def user_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Deactivate, reactivate, or issue a new set-password link (shown once, or mailed)."""
    person = get_object_or_404(User, pk=pk)
    try:
        if action == "deactivate":
            people.user_deactivate(by=request.user, user=person)  # type: ignore[arg-type]
            messages.success(request, f"{person.username} is deactivated: they can no longer sign in.")
        elif action == "reactivate":
            people.user_reactivate(by=request.user, user=person)  # type: ignore[arg-type]
            messages.success(request, f"{person.username} is active again.")
        elif action == "link":
            issued = _issued(request, person, bool(request.POST.get("send_email")))
            context = {"person": person, "tab": "users", **issued}
            response = render(request, "erp/settings/user_link.html", context)
            response["Cache-Control"] = "no-store"
            return response
        else:
            return HttpResponse(status=404)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("settings-user", pk=person.pk)


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """Where an invited user (or one given a new link) chooses their password: Django's
    password-reset confirmation, with this app's page and the sign-in page after it."""

    template_name = "erp/settings/set_password.html"
    success_url = reverse_lazy("login")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, "Your password is set: sign in with it.")
        return response


set_password = SetPasswordView.as_view()


def settings_home(request: HttpRequest) -> HttpResponse:
    return redirect(reverse("settings-company"))
