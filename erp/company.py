"""The company's own details: what letterheads print and the base currency, edited on Settings → Company.

``profile()`` answers what to use: the saved ``CompanyProfile`` row, or, while there is none, the
settings (COMPANY_NAME, COMPANY_ADDRESS, ERP_BASE_CURRENCY). It costs one query per request at most:
the answer is kept from the request's start to its end (``install()`` connects the two signals;
outside a request, a task or a command, every call reads the row again, so it is never stale there).

Who may edit: superusers and holders of the Operations manager role (``may_edit``); every signed-in
user may read the page. The base currency is final once the first sales order or invoice exists
(``currency_locked``): their amounts were rounded and reported in it.

Note: code that formats amounts in the base currency still reads settings.ERP_BASE_CURRENCY; the
profile starts from that value and the page says so when the two differ.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.utils import timezone

from erp.events import emit
from erp.exceptions import DomainError, ValidationFailed
from erp.models import CompanyProfile, User

EDITOR_ROLE = "Operations manager"
# Documents whose amounts are in the base currency: once one exists, the currency is final.
CURRENCY_LOCKING_MODELS: tuple[tuple[str, str], ...] = (
    ("sales.SalesOrder", "sales orders"),
    ("sales.Invoice", "invoices"),
)


@dataclass(frozen=True)
class CompanyInfo:
    name: str
    address_lines: tuple[str, ...]
    email: str
    phone: str
    tax_id: str
    base_currency: str
    timezone: str
    saved: bool  # False: nothing saved yet, these come from the settings

    @property
    def address(self) -> str:
        return "\n".join(self.address_lines)


class NotAllowed(DomainError):
    status_code = 403
    title = "Not allowed"


# The request's cached answer: None outside a request (no caching), else a one-slot dict.
_cache: contextvars.ContextVar[dict[str, CompanyInfo] | None] = contextvars.ContextVar(
    "erp_company_profile", default=None
)


def _request_started(**kwargs: Any) -> None:
    _cache.set({})


def _request_finished(**kwargs: Any) -> None:
    _cache.set(None)


def install() -> None:
    """Cache ``profile()`` per request (erp's AppConfig.ready())."""
    request_started.connect(_request_started, dispatch_uid="erp.company.request_started")
    request_finished.connect(_request_finished, dispatch_uid="erp.company.request_finished")


def _lines(text: Any) -> tuple[str, ...]:
    raw = text.splitlines() if isinstance(text, str) else list(text or ())
    return tuple(line.strip() for line in raw if line.strip())


def _from_settings() -> CompanyInfo:
    return CompanyInfo(
        name=str(settings.COMPANY_NAME or "ERP"),
        address_lines=_lines(settings.COMPANY_ADDRESS),
        email="",
        phone="",
        tax_id="",
        base_currency=str(settings.ERP_BASE_CURRENCY),
        timezone="",
        saved=False,
    )


def _from_row(row: CompanyProfile) -> CompanyInfo:
    return CompanyInfo(
        name=row.name,
        address_lines=_lines(row.address),
        email=row.email,
        phone=row.phone,
        tax_id=row.tax_id,
        base_currency=row.base_currency,
        timezone=row.timezone,
        saved=True,
    )


def profile() -> CompanyInfo:
    """The company's details to use now (one query, kept for the rest of the request)."""
    cached = _cache.get()
    if cached is not None and "profile" in cached:
        return cached["profile"]
    row = CompanyProfile.objects.filter(pk=CompanyProfile.SINGLETON_PK).first()
    info = _from_row(row) if row is not None else _from_settings()
    if cached is not None:
        cached["profile"] = info
    return info


def forget() -> None:
    """Drop the request's cached answer (after a write)."""
    cached = _cache.get()
    if cached is not None:
        cached.pop("profile", None)


def may_edit(user: AbstractUser | AnonymousUser) -> bool:
    """Superusers and Operations managers edit the company details; everyone signed in reads them."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(user.groups.filter(name=EDITOR_ROLE).exists())


def currency_locked() -> str | None:
    """Why the base currency can no longer change (a sentence), or None while it may."""
    for label, plural in CURRENCY_LOCKING_MODELS:
        app_label, _, model_name = label.partition(".")
        if not apps.is_installed(app_label):
            continue
        model = apps.get_model(app_label, model_name)
        if model._default_manager.exists():
            return (
                f"The base currency is final: {plural} already exist, and their amounts were "
                "rounded and reported in it."
            )
    return None


FIELDS = ("name", "address", "email", "phone", "tax_id", "base_currency", "timezone")


@transaction.atomic
def company_profile_update(
    *,
    by: User,
    name: str,
    address: str = "",
    email: str = "",
    phone: str = "",
    tax_id: str = "",
    base_currency: str,
    timezone_name: str = "",
) -> CompanyProfile:
    """Save the company's details (creating the one row the first time)."""
    if not may_edit(by):
        raise NotAllowed("Only superusers and Operations managers may change the company details.")
    row = CompanyProfile.objects.select_for_update().filter(pk=CompanyProfile.SINGLETON_PK).first()
    current_currency = row.base_currency if row is not None else str(settings.ERP_BASE_CURRENCY)
    base_currency = (base_currency or "").strip().upper()
    if base_currency != current_currency:
        reason = currency_locked()
        if reason is not None:
            raise ValidationFailed(reason, field_errors={"base_currency": [reason]})
    created = row is None
    if row is None:
        row = CompanyProfile(pk=CompanyProfile.SINGLETON_PK, created_by=by)
    row.name = name.strip()
    row.address = "\n".join(_lines(address))
    row.email = email.strip()
    row.phone = phone.strip()
    row.tax_id = tax_id.strip()
    row.base_currency = base_currency
    row.timezone = timezone_name.strip()
    row.updated_by = by
    row.updated_at = timezone.now()
    try:
        row.full_clean(exclude=["id"])
    except ValidationError as exc:
        errors = {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
        raise ValidationFailed("The company details are not valid.", field_errors=errors) from exc
    row.save(force_insert=created)
    emit(
        "erp.company_updated",
        aggregate=row,
        payload={"created": created, **{field: getattr(row, field) for field in FIELDS}},
    )
    forget()
    return row
