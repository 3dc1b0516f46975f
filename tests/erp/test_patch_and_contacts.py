"""The kernel's PATCH-with-ETag flow (erp.patching), answers shown with what is computed for them
(erp.api_helpers.Shown) and contacts (erp.contacts). The kernel knows no app: customers and
suppliers stand in here for any document and any owner of contacts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.http import HttpResponse
from ninja import Schema
from pydantic import ValidationError

from erp.api_helpers import ApiSchema, Shown, model_of
from erp.concurrency import PreconditionFailed, etag_of
from erp.contacts import ContactFieldsIn, ContactFieldsOut, contact_create, create_with_contacts
from erp.exceptions import NotFound, ValidationFailed
from erp.patching import answer_with_etag, changes_of, patch_with_etag
from procurement.models import Supplier, SupplierContact
from procurement.schemas import SupplierContactIn, SupplierContactOut
from sales.models import Contact, Customer
from sales.schemas import ContactIn, ContactOut
from tests.procurement.factories import SupplierFactory
from tests.sales.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class CustomerShown(Shown[Customer]):
    figures: list[int]


class CustomerShownOut(ApiSchema):
    id: int
    name: str
    figures: list[int]


class NamePatchIn(Schema):
    name: str | None = None
    notes: str | None = None


# --- Shown ----------------------------------------------------------------------------------------


def test_a_shown_answer_reads_its_own_fields_and_the_instance_for_the_rest():
    # given
    customer = CustomerFactory(name="Engines Ltd")

    # when
    shown = CustomerShown(obj=customer, figures=[1, 2])
    out = CustomerShownOut.model_validate(shown)

    # then
    assert (shown.figures, shown.name, shown.pk) == ([1, 2], "Engines Ltd", customer.pk)
    assert out.model_dump() == {"id": customer.pk, "name": "Engines Ltd", "figures": [1, 2]}
    assert not hasattr(customer, "figures"), "nothing is stuck onto the instance"


def test_a_shown_answer_has_nothing_that_neither_it_nor_its_instance_has():
    shown = CustomerShown(obj=CustomerFactory(), figures=[])

    assert not hasattr(shown, "no_such_field")
    assert not hasattr(shown, "__no_such_dunder__")


def test_model_of_gives_the_instance_of_a_shown_answer_or_the_instance_itself():
    customer = CustomerFactory()

    assert model_of(CustomerShown(obj=customer, figures=[])) is customer
    assert model_of(customer) is customer


def test_the_etag_of_an_answer_is_its_instances_shown_or_not():
    # given
    customer = CustomerFactory()
    plain, shown = HttpResponse(), HttpResponse()

    # when
    answer_with_etag(plain, customer)
    answer = answer_with_etag(shown, CustomerShown(obj=customer, figures=[]))

    # then
    assert plain["ETag"] == shown["ETag"] == etag_of(customer)
    assert answer.obj is customer


# --- changes_of -------------------------------------------------------------------------------------


def test_the_changes_of_a_patch_are_the_fields_sent_and_only_those():
    assert changes_of(NamePatchIn.model_validate({"name": "B"})) == {"name": "B"}
    assert changes_of(NamePatchIn.model_validate({})) == {}


def test_a_null_sent_for_a_field_that_cannot_be_empty_is_refused_naming_it():
    with pytest.raises(ValidationFailed) as refused:
        changes_of(NamePatchIn.model_validate({"name": None, "notes": None}))

    assert refused.value.status_code == 422
    assert refused.value.field_errors == {"name": ["Cannot be null."], "notes": ["Cannot be null."]}


def test_a_null_is_kept_for_a_nullable_field():
    payload = NamePatchIn.model_validate({"notes": None})

    assert changes_of(payload, nullable={"notes"}) == {"notes": None}


# --- patch_with_etag ----------------------------------------------------------------------------------


def rename(name: str, seen: list[Any] | None = None):
    def update(customer: Customer) -> None:
        if seen is not None:
            seen.append(customer)
        customer.name = name
        customer.save()

    return update


def read(pk: int) -> CustomerShown:
    return CustomerShown(obj=Customer.objects.get(pk=pk), figures=[pk])


def patch(customer_pk: int, if_match: str | None, update: Any) -> tuple[CustomerShown, HttpResponse]:
    response = HttpResponse()
    answer = patch_with_etag(
        response, Customer, customer_pk, what="customer", if_match=if_match, update=update, detail=read
    )
    return answer, response


def test_a_patch_with_the_current_etag_changes_and_answers_the_new_version_and_etag():
    # given
    customer = CustomerFactory(name="Before")
    tag = etag_of(customer)
    seen: list[Any] = []

    # when
    answer, response = patch(customer.pk, tag, rename("After", seen))

    # then
    assert seen[0].pk == customer.pk, "the update gets the locked row"
    assert (answer.name, answer.figures) == ("After", [customer.pk])
    assert response["ETag"] == etag_of(Customer.objects.get(pk=customer.pk)) != tag


@pytest.mark.parametrize("if_match", [None, "", "*"], ids=["no header", "empty", "any"])
def test_a_patch_without_a_tag_to_compare_applies_to_the_current_version(if_match: str | None):
    customer = CustomerFactory(name="Before")

    answer, response = patch(customer.pk, if_match, rename("After"))

    assert answer.name == "After"
    assert response["ETag"] == etag_of(answer.obj)


def test_a_patch_with_a_stale_etag_is_refused_with_412_and_changes_nothing():
    # given
    customer = CustomerFactory(name="Before")
    stale = etag_of(customer)
    patch(customer.pk, None, rename("Someone else's"))
    current = etag_of(Customer.objects.get(pk=customer.pk))
    seen: list[Any] = []

    # when
    with pytest.raises(PreconditionFailed) as refused:
        patch(customer.pk, stale, rename("Mine", seen))

    # then
    assert refused.value.status_code == 412
    assert refused.value.extra == {"current_etag": current}
    assert refused.value.message == (
        f"The customer has changed since you read it: read it again (its ETag is now {current}) "
        "and decide again."
    )
    assert seen == []
    assert Customer.objects.get(pk=customer.pk).name == "Someone else's"


@pytest.mark.parametrize("header", ["W/{tag}", "{tag}x", "not a tag"], ids=["weak", "other", "malformed"])
def test_only_the_current_strong_etag_matches(header: str):
    customer = CustomerFactory(name="Before")

    with pytest.raises(PreconditionFailed):
        patch(customer.pk, header.format(tag=etag_of(customer)), rename("After"))

    assert Customer.objects.get(pk=customer.pk).name == "Before"


def test_one_of_several_tags_matching_is_enough():
    customer = CustomerFactory(name="Before")

    answer, _ = patch(customer.pk, f'"old", {etag_of(customer)}', rename("After"))

    assert answer.name == "After"


def test_a_patch_of_a_document_that_is_gone_is_a_404_naming_it():
    seen: list[Any] = []

    with pytest.raises(NotFound, match=r"^No customer with id 999999\.$"):
        patch(999999, None, rename("After", seen))

    assert seen == []


def test_a_refused_update_leaves_the_document_as_it_was():
    # given
    customer = CustomerFactory(name="Before")

    def half_then_refuse(locked: Customer) -> None:
        locked.name = "Half"
        locked.save()
        raise ValidationFailed("No.")

    # when
    with pytest.raises(ValidationFailed):
        patch(customer.pk, etag_of(customer), half_then_refuse)

    # then
    assert Customer.objects.get(pk=customer.pk).name == "Before"


# --- contacts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "owner_field", "factory"),
    [(Contact, "customer", CustomerFactory), (SupplierContact, "supplier", SupplierFactory)],
    ids=["customer", "supplier"],
)
def test_a_contact_is_added_to_its_owner_with_its_name_stripped(model: Any, owner_field: str, factory: Any):
    # given
    owner = factory()

    # when
    contact = contact_create(
        model, owner_field=owner_field, owner=owner, name="  Grace ", email="g@x.example", role="buyer"
    )

    # then
    assert isinstance(contact, model)
    stored = model.objects.get(pk=contact.pk)
    assert (getattr(stored, owner_field), stored.name, stored.email, stored.phone, stored.role) == (
        owner,
        "Grace",
        "g@x.example",
        "",
        "buyer",
    )


def test_a_contact_without_a_name_is_refused():
    customer = CustomerFactory()

    with pytest.raises(ValidationFailed) as refused:
        contact_create(Contact, owner_field="customer", owner=customer, name="   ")

    assert (refused.value.message, refused.value.field_errors) == (
        "A contact needs a name.",
        {"name": ["Required."]},
    )
    assert not Contact.objects.filter(customer=customer).exists()


def add_contact(supplier: Supplier, values: dict[str, Any]) -> SupplierContact:
    return contact_create(SupplierContact, owner_field="supplier", owner=supplier, **values)


def test_an_owner_is_created_with_its_contacts_in_order():
    # given
    contacts = [ContactFieldsIn(name="Grace", role="sales"), ContactFieldsIn(name="Ada", email="a@x.example")]

    # when
    supplier = create_with_contacts(lambda: SupplierFactory(name="Parts Inc"), contacts, add_contact)

    # then
    rows = SupplierContact.objects.filter(supplier=supplier).order_by("pk")
    assert [(c.name, c.email, c.role) for c in rows] == [("Grace", "", "sales"), ("Ada", "a@x.example", "")]


def test_a_refused_contact_undoes_its_owner_too():
    contacts = [ContactFieldsIn(name="Grace"), ContactFieldsIn(name=" ")]

    with pytest.raises(ValidationFailed):
        create_with_contacts(lambda: SupplierFactory(name="Never Inc"), contacts, add_contact)

    assert not Supplier.objects.filter(name="Never Inc").exists()
    assert not SupplierContact.objects.filter(name="Grace").exists()


@pytest.mark.parametrize("schema", [ContactIn, SupplierContactIn], ids=["customer", "supplier"])
def test_the_contact_inputs_of_both_apps_are_the_kernels_fields_with_their_own_examples(schema: Any):
    # given
    kernel = ContactFieldsIn.model_json_schema()

    # when
    app = schema.model_json_schema()

    # then
    assert app["properties"] == kernel["properties"]
    assert app["required"] == kernel["required"] == ["name"]
    assert app["title"] == schema.__name__
    assert app["examples"][0]["name"]
    with pytest.raises(ValidationError):
        schema(name="x" * 201)
    with pytest.raises(ValidationError):
        schema(name="Grace", phone="1" * 41)


@pytest.mark.parametrize("schema", [ContactOut, SupplierContactOut], ids=["customer", "supplier"])
def test_the_contact_outputs_of_both_apps_read_a_contact_row(schema: Any):
    # given
    customer = CustomerFactory()
    contact = contact_create(Contact, owner_field="customer", owner=customer, name="Grace", phone="123")

    # when
    out = schema.model_validate(contact).model_dump()

    # then
    assert out == {"id": contact.pk, "name": "Grace", "email": "", "phone": "123", "role": ""}
    assert schema.model_json_schema()["properties"] == ContactFieldsOut.model_json_schema()["properties"]
