"""The API keys pages: every user manages their own keys; API key admins see and revoke all.

API key admins are superusers and holders of ``erp.manage_api_keys`` (the Integration
admin role), see erp.services.api_key_admin. The secret of a new key is in the answer
to the POST that created it and nowhere else: never in a URL, a session or the list.
"""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from erp.access import AREAS, KEYS_SCOPE, scopes_allowed, scopes_grantable
from erp.exceptions import DomainError
from erp.models import ApiKey, User
from erp.selectors import api_key_list
from erp.services import API_KEY_NAME_MAX, api_key_admin, api_key_create, api_key_revoke

PAGE_SIZE = 50
STATUSES = {"active": False, "revoked": True}  # status filter -> revoked_at__isnull=not value


def scope_label(scope: str) -> str:
    if scope == KEYS_SCOPE:
        return "API keys: create and revoke"
    area, _, level = scope.partition(":")
    return f"{AREAS.get(area, area)}: {level}"


class ApiKeyForm(forms.Form):
    """The key page's form; the rules themselves live in erp.services.api_key_create."""

    name = forms.CharField(
        max_length=API_KEY_NAME_MAX, help_text="What uses the key, e.g. 'ShipStation' or 'Nightly export'."
    )
    scopes = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        help_text="What the key may do: at most what you may do yourself.",
    )
    rate_limit_per_minute = forms.IntegerField(min_value=0, label="Rate limit (requests per minute)")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scopes = cast(forms.MultipleChoiceField, self.fields["scopes"])
        scopes.choices = [(s, scope_label(s)) for s in scopes_grantable(user)]
        default = int(settings.API_RATE_LIMIT_PER_MINUTE)
        limit = cast(forms.IntegerField, self.fields["rate_limit_per_minute"])
        limit.initial = default
        if api_key_admin(user) or not default:
            limit.help_text = "0 = unlimited."
        else:
            limit.validators += [MinValueValidator(1), MaxValueValidator(default)]
            limit.widget.attrs.update(min=1, max=default)
            limit.help_text = f"At most {default}; an API key admin may allow more."


def _list_view(request: HttpRequest) -> tuple[bool, bool]:
    """(may see everyone's keys, is looking at everyone's keys)."""
    admin = api_key_admin(request.user)
    return admin, admin and request.GET.get("owner") == "all"


def _keys(request: HttpRequest, everyone: bool) -> QuerySet[ApiKey]:
    keys = api_key_list(user=None if everyone else request.user)
    status = request.GET.get("status", "")
    if status in STATUSES:
        keys = keys.filter(revoked_at__isnull=not STATUSES[status])
    return keys


@login_required
def key_list(request: HttpRequest) -> HttpResponse:
    admin, everyone = _list_view(request)
    page = Paginator(_keys(request, everyone), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "admin": admin,
        "everyone": everyone,
        "status": request.GET.get("status", ""),
        "can_issue": bool(scopes_allowed(request.user)),
    }
    template = "erp/keys.html#rows" if getattr(request, "htmx", False) else "erp/keys.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def key_create(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = ApiKeyForm(request.POST or None, user=user)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = api_key_create(
                user=user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                rate_limit_per_minute=form.cleaned_data["rate_limit_per_minute"],
            )
        except DomainError as exc:
            for field, problems in exc.field_errors.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
            if not exc.field_errors:
                form.add_error(None, exc.message)
    context = {
        "form": form,
        "issued": issued,
        "can_issue": bool(scopes_allowed(user)),
        "scope_labels": {s: scope_label(s) for s in issued.api_key.scopes} if issued else {},
    }
    template = "erp/keys_new.html#panel" if getattr(request, "htmx", False) else "erp/keys_new.html"
    response = render(request, template, context)
    if issued is not None:
        response["Cache-Control"] = "no-store"  # the secret must not stay in any cache
    return response


@login_required
@require_http_methods(["GET", "POST"])
def key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation page (without JavaScript); POST: revoke, then the list (or, for
    htmx, the key's updated row and a toast)."""
    admin, everyone = _list_view(request)
    key = get_object_or_404(api_key_list(user=None if admin else request.user), pk=pk)
    if request.method == "GET":
        return render(request, "erp/keys_revoke.html", {"key": key, "everyone": everyone})
    api_key_revoke(api_key=key, by=request.user)  # type: ignore[arg-type]
    message = f"Key '{key.name}' ({key.prefix}…) revoked: it no longer works."
    if getattr(request, "htmx", False):
        response = render(request, "erp/keys.html#row", {"k": key, "everyone": everyone, "admin": admin})
        response["HX-Trigger"] = json.dumps({"toast": {"message": message, "level": "success"}})
        return response
    messages.success(request, message)
    return redirect(reverse("keys") + ("?owner=all" if everyone else ""))
