"""Users and their roles, managed by superusers on Settings → Users (erp/views_settings.py).

An invited user gets no password: they choose one through a set-password link made with Django's
password-reset tokens (``set_password_link``), valid for PASSWORD_RESET_TIMEOUT (3 days by default)
and spent once a password is set. The link is shown once to the superuser who invited them, or
mailed through Django's mail settings (``invitation_send``).

Roles are the groups of erp.access.ROLES; other groups a user is in are left as they are.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import AbstractUser, AnonymousUser, Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from erp.access import ROLES
from erp.company import NotAllowed, profile
from erp.events import emit
from erp.exceptions import ValidationFailed
from erp.models import User

ROLE_NAMES: tuple[str, ...] = tuple(role.name for role in ROLES)


def may_manage_users(user: AbstractUser | AnonymousUser) -> bool:
    """Superusers only: a role decides what a person sees and may do everywhere."""
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def _require(by: AbstractUser) -> None:
    if not may_manage_users(by):
        raise NotAllowed("Only superusers may invite users, change their roles or deactivate them.")


def user_list() -> QuerySet[User]:
    """Every user with their role groups (two queries for any number of users), active first."""
    return User.objects.prefetch_related(
        Prefetch(
            "groups", queryset=Group.objects.filter(name__in=ROLE_NAMES).order_by("name"), to_attr="roles"
        )
    ).order_by("-is_active", "username")


def _clean_roles(roles: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(roles))
    unknown = [r for r in wanted if r not in ROLE_NAMES]
    if unknown:
        raise ValidationFailed(
            f"Unknown role(s): {', '.join(unknown)}.",
            field_errors={"roles": [f"Unknown: {', '.join(unknown)}."]},
        )
    return wanted


def _set_roles(user: User, roles: list[str]) -> None:
    kept = list(user.groups.exclude(name__in=ROLE_NAMES))
    user.groups.set([*kept, *Group.objects.filter(name__in=roles)])


@transaction.atomic
def user_invite(
    *,
    by: AbstractUser,
    username: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    roles: Iterable[str],
) -> User:
    """A new active user with these roles and no password yet (they set it through their link)."""
    _require(by)
    username = username.strip()
    email = email.strip()
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = ["Required."]
    else:
        try:
            User.username_validator(username)
        except ValidationError as exc:
            errors["username"] = [str(m) for m in exc.messages]
        if User.objects.filter(username__iexact=username).exists():
            errors["username"] = [f"'{username}' is taken: choose another username."]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = ["Enter a valid email address."]
    try:
        wanted = _clean_roles(roles)
    except ValidationFailed as exc:
        errors.update(exc.field_errors)
        wanted = []
    if errors:
        raise ValidationFailed("The user was not invited: correct the fields marked.", field_errors=errors)
    user = User(username=username, first_name=first_name.strip(), last_name=last_name.strip(), email=email)
    user.set_unusable_password()
    user.save()
    _set_roles(user, wanted)
    emit("erp.user_invited", aggregate=user, payload={"username": username, "roles": wanted})
    return user


@transaction.atomic
def user_roles_set(*, by: AbstractUser, user: User, roles: Iterable[str]) -> User:
    _require(by)
    wanted = _clean_roles(roles)
    user = User.objects.select_for_update().get(pk=user.pk)
    _set_roles(user, wanted)
    emit("erp.user_roles_changed", aggregate=user, payload={"username": user.username, "roles": wanted})
    return user


@transaction.atomic
def user_deactivate(*, by: AbstractUser, user: User) -> User:
    """The user can no longer sign in, and their API keys stop working (a key acts with its owner's
    rights). Nothing they did is removed. Not oneself: so an active superuser always remains."""
    _require(by)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pk == by.pk:
        raise ValidationFailed("You cannot deactivate yourself: ask another superuser.")
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        emit("erp.user_deactivated", aggregate=user, payload={"username": user.username})
    return user


@transaction.atomic
def user_reactivate(*, by: AbstractUser, user: User) -> User:
    _require(by)
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
        emit("erp.user_reactivated", aggregate=user, payload={"username": user.username})
    return user


def set_password_link(request: HttpRequest, user: User) -> str:
    """An absolute link where ``user`` chooses a password (Django's password-reset token)."""
    path = reverse(
        "settings-set-password",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return request.build_absolute_uri(path)


def link_valid_days() -> int:
    return max(1, int(settings.PASSWORD_RESET_TIMEOUT) // 86400)


def invitation_send(*, user: User, link: str, by: AbstractUser) -> None:
    """Mail the link to the user through Django's mail settings (EMAIL_BACKEND, DEFAULT_FROM_EMAIL).
    Raises what the mail backend raises; the caller shows the link instead."""
    if not user.email:
        raise ValidationFailed(f"{user.username} has no email address: copy the link instead.")
    company = profile().name
    inviter = by.get_full_name() or by.get_username()
    body = (
        f"Hello {user.get_full_name() or user.username},\n\n"
        f"{inviter} invited you to {company}'s ERP. Your username is {user.username}.\n"
        f"Choose your password here (the link works for {link_valid_days()} days, once):\n\n{link}\n"
    )
    send_mail(f"Your account at {company}", body, None, [user.email])
