"""Comments on documents, with @mentions that notify the people named.

Anyone who can read a document's area may comment on it. ``@username`` names an active user;
each one named who can read the document's area is notified (once per comment).
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from erp import notifications, timeline
from erp.access import user_can
from erp.exceptions import DomainError, NotFound, ValidationFailed
from erp.models import Comment

MAX_LENGTH = 5000
# Django's username characters: letters, digits and @ . + - _ ; not preceded by a word character,
# so an email address ("ada@example.com") names nobody.
MENTION = re.compile(r"(?<![\w@])@([\w.@+-]+)")


class CommentRefused(DomainError):
    status_code = 403
    title = "Not allowed"


def mentioned_usernames(body: str) -> list[str]:
    """The usernames a text names, in order, once each; a sentence's final '.' is not part of one."""
    found: list[str] = []
    for match in MENTION.finditer(body):
        name = match.group(1).rstrip(".-")
        if name and name not in found:
            found.append(name)
    return found


def _mentioned_users(body: str) -> list[Any]:
    names = mentioned_usernames(body)
    if not names:
        return []
    user_model = get_user_model()
    lookup = {n.lower() for n in names}
    # Usernames are unique as typed; people type them in any case.
    return [
        u
        for u in user_model._default_manager.filter(is_active=True, username__iregex=_any_of(names))
        if u.username.lower() in lookup
    ]


def _any_of(names: list[str]) -> str:
    return r"^(" + "|".join(re.escape(n) for n in names) + r")$"


@transaction.atomic
def comment_add(*, user: Any, document: str, body: str) -> Comment:
    """Comment on ``document`` ("sales.salesorder:42") as ``user``; notify those mentioned.

    Refused, with nothing written: an empty comment, one over 5,000 characters, a document that
    does not exist, a user who cannot read its area.
    """
    text = (body or "").strip()
    if not text:
        raise ValidationFailed("Write a comment first.", field_errors={"body": ["Write a comment first."]})
    if len(text) > MAX_LENGTH:
        message = f"A comment is at most {MAX_LENGTH:,} characters; this one has {len(text):,}."
        raise ValidationFailed(message, field_errors={"body": [message]})
    try:
        doc, obj = timeline.load(document)
    except LookupError as exc:
        raise NotFound(str(exc)) from None
    if not user_can(user, doc.area, "read"):
        raise CommentRefused(f"You cannot read {doc.area}, so you cannot comment on its documents.")
    comment = Comment.objects.create(document_type=doc.label, document_id=str(obj.pk), author=user, body=text)
    mentioned = [u for u in _mentioned_users(text) if u.pk != user.pk]
    if mentioned:
        comment.mentions.set(mentioned)
        readers = notifications.users_who_can(doc.area, "read").filter(pk__in=[u.pk for u in mentioned])
        title = f"{timeline.actors.user_name(user)} mentioned you on {doc.title_of(obj)}"
        notifications.notify(
            readers,
            kind="mention",
            title=title[:200],
            body=text[:1000],
            url=f"{doc.url_of(obj)}#timeline",
            key=f"mention:{comment.pk}",
        )
    return comment
