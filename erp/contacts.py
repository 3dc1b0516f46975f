"""The contacts of a customer or a supplier: the people to talk to there.

Sales and procurement keep them in tables of their own with the same fields (``sales.Contact``,
``procurement.SupplierContact``: name, email, phone, role, and a foreign key to their owner).
What they share is here, knowing neither app:

* ``ContactFieldsIn`` / ``ContactFieldsOut``: the fields of a contact in the API. Each app
  subclasses them with its own examples, so its schemas keep their names in the OpenAPI
  document (``ContactIn``, ``SupplierContactIn``, ...).
* ``contact_create``: the one rule of adding a contact (a name is required, 422 otherwise), for
  the apps' ``<owner>_contact_add`` services.
* ``create_with_contacts``: an owner and its contacts created in one transaction (all or nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model
from ninja import Field

from erp.api_helpers import ApiSchema
from erp.exceptions import ValidationFailed

C = TypeVar("C", bound=Model)
OwnerT = TypeVar("OwnerT")

NAME_MAX = 200
EMAIL_MAX = 254
PHONE_MAX = 40
ROLE_MAX = 100


class ContactFieldsIn(ApiSchema):
    name: str = Field(max_length=NAME_MAX)
    email: str = Field("", max_length=EMAIL_MAX)
    phone: str = Field("", max_length=PHONE_MAX)
    role: str = Field("", max_length=ROLE_MAX)


class ContactFieldsOut(ApiSchema):
    id: int
    name: str
    email: str
    phone: str
    role: str


def contact_create(
    model: type[C],
    *,
    owner_field: str,
    owner: Model,
    name: str,
    email: str = "",
    phone: str = "",
    role: str = "",
) -> C:
    """A contact of ``owner``, a row of ``model`` whose foreign key to the owner is ``owner_field``.
    A blank name is refused (422 on ``name``); the name is stored stripped."""
    if not name.strip():
        raise ValidationFailed("A contact needs a name.", field_errors={"name": ["Required."]})
    return model._default_manager.create(
        **{owner_field: owner}, name=name.strip(), email=email, phone=phone, role=role
    )


def create_with_contacts(
    create: Callable[[], OwnerT],
    contacts: Iterable[ContactFieldsIn],
    add: Callable[[OwnerT, dict[str, Any]], object],
) -> OwnerT:
    """``create()`` the owner, then ``add(owner, values)`` each contact, in one transaction: a contact
    refused undoes the owner too."""
    with transaction.atomic():
        owner = create()
        for contact in contacts:
            add(owner, contact.dict())
    return owner
