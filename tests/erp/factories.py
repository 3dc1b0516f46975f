from __future__ import annotations

import factory
from django.contrib.auth.models import Group

from erp.models import User
from erp.roles import sync_roles
from erp.services import api_key_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw")

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if not create or not extracted:
            return
        sync_roles()
        self.groups.set(Group.objects.filter(name__in=extracted))


def api_key_for(user: User, *, name: str = "test key", scopes: list[str] | None = None) -> str:
    """Issue a key and return the raw token."""
    return api_key_create(user=user, name=name, scopes=scopes).raw_key


def bearer(raw_key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"}
