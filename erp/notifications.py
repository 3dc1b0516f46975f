"""Notifications: something a person should know or do, under the bell in the top bar.

``notify(users, kind=..., title=..., url=..., key=...)`` writes one row per recipient in one
bulk insert. A ``key`` names what it is about ("po-approval:42"): while a person has an unread
notification with that key, they are not told again (the database holds it too). With
settings.NOTIFICATIONS_EMAIL, each new notification is also mailed, after the commit, to a
recipient who has an email address, and ``emailed_at`` records it.

Who to tell is asked set-based: ``users_with_right("procurement_approve")``,
``users_who_can("procurement", "write")`` are querysets, never a loop over users.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from erp.access import Level, permission_name
from erp.models import Notification

logger = logging.getLogger(__name__)


def users_with_perm(perm: str) -> QuerySet[Any]:
    """Active users holding ``perm`` ("erp.procurement_write"), through a role or their own; and
    superusers."""
    return get_user_model()._default_manager.with_perm(perm, is_active=True)


def users_with_right(right: str) -> QuerySet[Any]:
    return users_with_perm(f"erp.{right}")


def users_who_can(area: str, level: Level) -> QuerySet[Any]:
    """Active users who may ``level`` the area (write implies read)."""
    writers = users_with_perm(permission_name(area, "write"))
    if level == "write":
        return writers
    return writers | users_with_perm(permission_name(area, "read"))


def notify(
    users: Iterable[Any],
    *,
    kind: str,
    title: str,
    url: str = "",
    key: str = "",
    body: str = "",
) -> list[Notification]:
    """Tell each of ``users``; with a ``key``, not those who have it unread. Returns the new rows."""
    recipients = {u.pk: u for u in users}
    if not recipients:
        return []
    created = _create(recipients, kind=kind, title=title[:200], url=url[:500], key=key[:200], body=body)
    if created and settings.NOTIFICATIONS_EMAIL:
        pks = [n.pk for n in created if recipients[n.recipient_id].email]
        if pks:
            transaction.on_commit(lambda: send_emails(pks))
    return created


def _create(recipients: dict[int, Any], **fields: str) -> list[Notification]:
    for _attempt in range(2):
        waiting = set(recipients)
        if fields["key"]:
            told = Notification.objects.filter(
                recipient_id__in=waiting, key=fields["key"], read_at__isnull=True
            ).values_list("recipient_id", flat=True)
            waiting -= set(told)
        rows = [Notification(recipient=recipients[pk], **fields) for pk in sorted(waiting)]
        try:
            with transaction.atomic():
                return Notification.objects.bulk_create(rows)
        except IntegrityError:  # someone told one of them the same thing meanwhile: ask again
            continue
    return []


def send_emails(pks: list[int]) -> int:
    """Mail the notifications not mailed yet (after the commit that made them). How many were sent."""
    found = list(Notification.objects.filter(pk__in=pks, emailed_at__isnull=True).select_related("recipient"))
    base = getattr(settings, "PUBLIC_BASE_URL", "") or ""
    sent: list[int] = []
    try:
        with get_connection() as conn:
            for n in found:
                if not n.recipient.email:
                    continue
                link = f"{base.rstrip('/')}{n.url}" if n.url.startswith("/") else n.url
                text = "\n\n".join(part for part in (n.body, link) if part)
                message = EmailMessage(subject=n.title, body=text, to=[n.recipient.email], connection=conn)
                message.send()
                sent.append(n.pk)
    except Exception:
        logger.exception("Mailing notifications failed after %d of %d", len(sent), len(found))
    if sent:
        Notification.objects.filter(pk__in=sent).update(emailed_at=timezone.now())
    return len(sent)


def unread(user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user, read_at__isnull=True)


def for_user(user: Any) -> QuerySet[Notification]:
    """Unread first, then the newest."""
    is_unread = ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField())
    return Notification.objects.filter(recipient=user).order_by(is_unread.desc(), "-created_at", "-id")


@transaction.atomic
def notification_read(*, user: Any, pk: int) -> Notification:
    """Mark one of the user's notifications read (LookupError when it is not theirs)."""
    found = Notification.objects.select_for_update().filter(recipient=user, pk=pk).first()
    if found is None:
        raise LookupError(f"No notification {pk}")
    if found.read_at is None:
        found.read_at = timezone.now()
        found.save(update_fields=["read_at"])
    return found


@transaction.atomic
def notifications_read_all(*, user: Any) -> int:
    return unread(user).update(read_at=timezone.now())


def unread_count(request: HttpRequest) -> dict[str, Callable[[], int]]:
    """Context processor: the bell's count, asked (one query) only by a page that shows it."""
    user = getattr(request, "user", None)
    cached: list[int] = []

    def count() -> int:
        if not cached:
            ok = user is not None and user.is_authenticated
            cached.append(unread(user).count() if ok else 0)
        return cached[0]

    return {"notifications_unread": count}
