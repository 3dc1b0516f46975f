"""My webhooks: an API user's outbound webhook subscriptions, their deliveries and replays.

Any signed-in user manages their own subscriptions; integration admins (integrations:write)
see and manage everyone's. The signing secret is shown once, in the answer to the
form that created the subscription, and never again.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from erp.access import user_can
from erp.exceptions import DomainError
from erp.ui import flash, paginate
from integrations import selectors, webhooks_out
from integrations.filters import DeliveryFilter
from integrations.forms import SubscriptionForm, add_domain_errors
from integrations.models import Delivery, DeliveryStatus, WebhookSubscription
from integrations.views.common import render_page, status_tabs
from integrations.views.connections import back
from integrations.views.tabs import DELIVERY_TABS


def is_admin(user: Any) -> bool:
    return bool(user.is_superuser or user_can(user, "integrations", "write"))


def _subscription(request: HttpRequest, pk: int) -> WebhookSubscription:
    """One the user may manage: their own, or anyone's for an admin. Others are a 404."""
    subscriptions = selectors.subscription_list(None if is_admin(request.user) else request.user)  # type: ignore[arg-type]
    try:
        return subscriptions.get(pk=pk)
    except WebhookSubscription.DoesNotExist:
        raise Http404(f"No webhook subscription {pk}") from None


@login_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    admin = is_admin(request.user)
    show_all = admin and request.GET.get("all") == "1"
    form = SubscriptionForm(request.POST or None)
    created: tuple[WebhookSubscription, str] | None = None
    if request.method == "POST" and form.is_valid():
        try:
            subscription, secret = webhooks_out.subscription_create(
                user=request.user,
                url=form.cleaned_data["url"],
                topics=form.cleaned_data["topics"],
                description=form.cleaned_data["description"],
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            created = (subscription, secret)
            form = SubscriptionForm()
    subscriptions = selectors.subscription_list(None if show_all else request.user)  # type: ignore[arg-type]
    context = {
        "form": form,
        "created": created,
        "page": paginate(request, subscriptions),
        "is_admin": admin,
        "show_all": show_all,
        "can_write": user_can(request.user, "integrations", "write"),
    }
    return render_page(request, "integrations/webhooks.html", context, status=201 if created else 200)


@login_required
def webhook_detail(request: HttpRequest, pk: int, rotated: str = "") -> HttpResponse:
    subscription = _subscription(request, pk)
    initial = {
        "url": subscription.url,
        "topics": " ".join(subscription.topics),
        "description": subscription.description,
        "is_active": subscription.is_active,
    }
    form = SubscriptionForm(None if rotated else request.POST or None, initial=initial)
    if request.method == "POST" and not rotated and form.is_valid():
        try:
            webhooks_out.subscription_update(
                subscription=subscription,
                url=form.cleaned_data["url"],
                topics=form.cleaned_data["topics"],
                description=form.cleaned_data["description"],
                is_active=form.cleaned_data["is_active"],
                user=request.user,
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            flash(request, "Subscription saved.")
            return redirect("integrations:webhook", pk=pk)
    deliveries = selectors.subscription_deliveries(subscription)
    filterset = DeliveryFilter(request.GET, queryset=deliveries)
    filterset.is_valid()
    others = request.GET.copy()
    others.pop("status", None)
    counts = dict(
        DeliveryFilter(others, queryset=Delivery.objects.filter(subscription=subscription))
        .qs.order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    counts["open"] = counts.pop(DeliveryStatus.PENDING, 0) + counts.pop(DeliveryStatus.FAILED, 0)
    context = {
        "subscription": subscription,
        "form": form,
        "filter": filterset,
        "page": paginate(request, filterset.qs),
        "status_tabs": status_tabs(request.GET, DELIVERY_TABS, counts),
        "is_admin": is_admin(request.user),
        "can_write": user_can(request.user, "integrations", "write"),
        "rotated": rotated,
    }
    return render_page(request, "integrations/webhook.html", context)


@login_required
@require_POST
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    """A new signing secret, shown in this answer only (the old one stops working at once)."""
    subscription = _subscription(request, pk)
    try:
        _, secret = webhooks_out.subscription_rotate_secret(subscription=subscription, user=request.user)
    except DomainError as exc:
        flash(request, exc.message, "error")
        return redirect("integrations:webhook", pk=pk)
    return webhook_detail(request, pk, rotated=secret)


@login_required
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription(request, pk)
    try:
        webhooks_out.subscription_delete(subscription=subscription, user=request.user)
    except DomainError as exc:
        flash(request, exc.message, "error")
        return redirect("integrations:webhook", pk=pk)
    flash(request, f"Subscription to {subscription.url} deleted.")
    return redirect("integrations:webhooks")


@login_required
@require_POST
def webhook_delivery_replay(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a delivery of one of my subscriptions again (a new attempt, the same event id)."""
    delivery = get_object_or_404(
        Delivery.objects.select_related("subscription"), pk=pk, subscription__isnull=False
    )
    subscription = _subscription(request, delivery.subscription_id)  # type: ignore[arg-type]
    try:
        webhooks_out.delivery_replay(delivery=delivery, user=request.user)
    except DomainError as exc:
        message, level = exc.message, "error"
    else:
        message, level = "Delivery replayed: a new attempt is queued.", "success"
    flash(request, message, level)
    return back(request, reverse("integrations:webhook", args=[subscription.pk]))
