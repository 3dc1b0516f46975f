"""Comments on documents through the API: ``GET/POST /api/v1/comments?document=sales.salesorder:42``.

A document is named ``app_label.model:id``. Listing and commenting both need the read scope of the
document's area (``sales:read`` for a sales order): whoever may read a document may comment on it,
as on its page. ``@username`` in a comment notifies that user (erp.comments).
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from erp import comments, timeline
from erp.actor import user_name
from erp.api_helpers import principal as principal_of
from erp.apiauth import ErpAuth, Forbidden
from erp.exceptions import NotFound
from erp.models import Comment

router = Router(tags=["Comments"], auth=ErpAuth())

DOCUMENT_HELP = "The document, as app_label.model:id (sales.salesorder:42, procurement.purchaseorder:7)."


class PersonOut(Schema):
    id: int
    username: str
    name: str


class CommentOut(Schema):
    id: int
    document: str
    author: PersonOut
    body: str
    mentions: list[str] = Field(description="usernames of the people the comment names")
    created_at: datetime


class CommentIn(Schema):
    document: str = Field(description=DOCUMENT_HELP, examples=["sales.salesorder:42"])
    body: str = Field(description="Up to 5,000 characters; @username tells that person.", max_length=20000)


class DocumentQuery(Schema):
    document: str = Field(description=DOCUMENT_HELP)


def _out(comment: Comment, mentions: list[str] | None = None) -> CommentOut:
    author = comment.author
    return CommentOut(
        id=comment.pk,
        document=f"{comment.document_type}:{comment.document_id}",
        author=PersonOut(id=author.pk, username=author.get_username(), name=user_name(author)),
        body=comment.body,
        mentions=mentions if mentions is not None else [u.get_username() for u in comment.mentions.all()],
        created_at=comment.created_at,
    )


def _readable(request: HttpRequest, document: str) -> tuple[timeline.Document, Any]:
    try:
        doc, obj = timeline.load(document)
    except LookupError as exc:
        raise NotFound(str(exc)) from None
    if not principal_of(request).can(doc.area, "read"):
        raise Forbidden(f"Scope '{doc.area}:read' is required to read or comment on {doc.title_of(obj)}.")
    return doc, obj


@router.get("/comments", response=list[CommentOut])
@paginate(PageNumberPagination, page_size=50)
def comment_list(request: HttpRequest, filters: Query[DocumentQuery]) -> list[CommentOut]:
    """The document's comments, oldest first."""
    doc, obj = _readable(request, filters.document)
    return [_out(c) for c in timeline.comments_of(doc.label, obj.pk).prefetch_related("mentions")]


@router.post("/comments", response={201: CommentOut})
def comment_create(request: HttpRequest, payload: CommentIn) -> Status[CommentOut]:
    """Comment on a document; each ``@username`` named who can read it is notified."""
    _readable(request, payload.document)
    comment = comments.comment_add(
        user=principal_of(request).user, document=payload.document, body=payload.body
    )
    return Status(201, _out(comment))
