"""Optimistic concurrency for document updates: ETag on read, If-Match on write, 412 when stale.

The rule, the same in every app:

* Reading a document (GET) answers an ``ETag`` header: a strong entity tag naming the
  document's VERSION, derived from its model, primary key and ``updated_at`` (every
  service that changes a document saves ``updated_at``). It names the version of the
  stored document, not the bytes of the answer: figures computed when read (availability,
  reservations, balances) may differ between two answers with the same tag.
* An update (PATCH) accepts ``If-Match`` with that tag (or several, or ``*``). When the
  document has changed since it was read, nothing is written and the answer is 412
  problem+json ("changed since you read it") carrying the current tag. Tags are compared
  with the strong comparison RFC 9110 prescribes for If-Match: a weak tag (``W/"..."``)
  never matches, and neither does a header that is not a list of entity tags.
* ``If-Match`` is optional: without it the update applies to whatever is current (last
  writer wins), as before this existed. Send it whenever a person or a tool decided
  the change from what it read.
* The update answers the new ``ETag``.

Race-free: the comparison is made on the row locked (``SELECT ... FOR UPDATE``) inside the
update's own transaction (``locked_for_update``), so two writers holding the same tag cannot
both pass: the second waits for the first's lock and then sees the new version.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.utils.http import parse_etags

from erp.exceptions import DomainError, NotFound

M = TypeVar("M", bound=Model)

IF_MATCH_DESCRIPTION = (
    "The ETag of the document as you read it. When the document has changed since, nothing is "
    "changed and the answer is 412. Optional: without it, the update applies to the current version."
)


class PreconditionFailed(DomainError):
    """The document changed since the client read it (a stale If-Match)."""

    status_code = 412
    title = "Precondition failed"


def etag_of(obj: Model) -> str:
    """The strong entity tag of a document's current version (its ``updated_at``)."""
    updated_at = getattr(obj, "updated_at", None)
    if not isinstance(updated_at, datetime.datetime):
        raise TypeError(f"{obj._meta.label} has no updated_at: it cannot carry an ETag.")
    stamp = updated_at.isoformat()
    digest = hashlib.sha256(f"{obj._meta.label_lower}:{obj.pk}:{stamp}".encode()).hexdigest()
    return f'"{digest[:32]}"'


def with_etag(response: HttpResponse, obj: Model) -> None:
    """Put the document's ETag on the answer being built (ninja's temporal response)."""
    response["ETag"] = etag_of(obj)


def parse_if_match(header: str) -> list[str]:
    """The entity tags of an If-Match header, as Django parses them (``*`` stays ``*``; weak
    tags keep their ``W/``; a malformed header gives none)."""
    return parse_etags(header)


def strong_match(tags: list[str], current: str) -> bool:
    """RFC 9110's strong comparison: ``*``, or a tag equal to ``current`` and not weak."""
    return "*" in tags or any(tag == current and not tag.startswith("W/") for tag in tags)


def check_if_match(if_match: str | None, obj: Model, *, what: str) -> None:
    """Refuse (412) when ``If-Match`` is given and names no tag of the document's current version."""
    if if_match is None or not if_match.strip():
        return
    current = etag_of(obj)
    if strong_match(parse_if_match(if_match), current):
        return
    raise PreconditionFailed(
        f"The {what} has changed since you read it: read it again (its ETag is now {current}) "
        "and decide again.",
        current_etag=current,
    )


def if_match_of(request: HttpRequest) -> str | None:
    return request.headers.get("If-Match")


@contextmanager
def locked_for_update(model: type[M], pk: Any, *, what: str, if_match: str | None) -> Iterator[M]:
    """Open the update's transaction, lock the document's row, check If-Match on it, hand it over.

    The service called inside runs in the same transaction (its own lock of the row is then
    already held), so nothing can change the document between the check and the write.
    """
    with transaction.atomic():
        obj = model._default_manager.select_for_update().filter(pk=pk).first()
        if obj is None:
            raise NotFound(f"No {what} with id {pk}.")
        check_if_match(if_match, obj, what=what)
        yield obj


def if_match_param() -> Any:
    """The ``If-Match`` request header of an update, documented in the OpenAPI schema."""
    from ninja import Header

    return Header(None, alias="If-Match", description=IF_MATCH_DESCRIPTION)
