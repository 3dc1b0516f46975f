"""Reading and changing a document through the API with its ETag: the one flow every app's
GET and PATCH of a document follows (the rule itself is in ``erp.concurrency``).

* ``answer_with_etag``: the answer of a read, with the ``ETag`` header of its document's version.
* ``changes_of``: the fields a PATCH sent, and only those; a null in a field that cannot be
  empty is a 422 (``no_nulls``).
* ``patch_with_etag``: in one transaction, lock the document's row (404 when it is gone),
  compare ``If-Match`` with its current strong ETag (412 with ``current_etag`` when stale;
  no ``If-Match``: last writer wins), apply the change through the app's service, then read
  the answer again and give it the new ``ETag``.

The kernel knows no app: the model, the service call and how the answer is read are passed in::

    changes = changes_of(payload)
    return patch_with_etag(
        response, Customer, customer_id, what="customer", if_match=if_match,
        update=lambda customer: services.customer_update(customer=customer, user=user, **changes),
        detail=customer_detail,
    )
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db.models import Model
from django.http import HttpResponse
from ninja import Schema

from erp.api_helpers import Shown, model_of, no_nulls
from erp.concurrency import locked_for_update, with_etag

M = TypeVar("M", bound=Model)
# What a document's read answers: the model instance, or a Shown of it.
A = TypeVar("A", bound="Model | Shown[Any]")


def answer_with_etag(response: HttpResponse, answer: A) -> A:
    """``answer``, with the ETag of its document's version on the response being built."""
    shown: Model | Shown[Any] = answer
    with_etag(response, model_of(shown))
    return answer


def changes_of(payload: Schema, *, nullable: Iterable[str] = ()) -> dict[str, Any]:
    """The fields a PATCH sent (left-out fields stay as they are); a null where the field cannot be
    empty (any not in ``nullable``) is refused with a 422 naming it."""
    changes = payload.dict(exclude_unset=True)
    no_nulls(changes, nullable)
    return changes


def patch_with_etag(
    response: HttpResponse,
    model: type[M],
    pk: Any,
    *,
    what: str,
    if_match: str | None,
    update: Callable[[M], object],
    detail: Callable[[Any], A],
) -> A:
    """Change one document under its row lock, checking ``If-Match`` first, and answer it as read
    afterwards, with its new ETag.

    ``what`` names the document in the 404 and 412 messages ("No customer with id 7.", "The
    customer has changed since you read it ..."). ``update`` gets the locked instance and calls
    the app's service (which runs in the same transaction); ``detail`` reads the answer by
    primary key once the change is committed.
    """
    with locked_for_update(model, pk, what=what, if_match=if_match) as obj:
        update(obj)
    return answer_with_etag(response, detail(pk))
