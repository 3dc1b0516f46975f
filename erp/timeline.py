"""A document's timeline: what happened to it (its outbox events and those of related records),
who did it, and what people said about it (comments), newest first.

The kernel knows no app. Each app registers, from its AppConfig.ready():

- its documents: ``register_document("sales.salesorder", area="sales", events=..., title=...)``,
  where ``events(obj)`` is a ``Q`` on OutboxEvent naming the document's own events and those of
  the records that belong to it (default: the document's own aggregate), and ``extra(obj)`` gives
  entries read from the already loaded row (a transfer's "Created"), at no query;
- the sentences of its topics: ``register_describer("sales.*", fn)``, ``fn(event)`` returning a
  sentence, a (sentence, facts) pair, or None (the next describer, then the topic in words).

A timeline costs two queries whatever its length: the events, the comments (with their authors).
``{% document_timeline obj %}`` (erp/templatetags/erp_timeline.py) renders it with the comment form.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db.models import Model, Q, QuerySet

from erp import actor as actors
from erp import formatting
from erp.models import Comment, OutboxEvent

MAX_EVENTS = 200  # the newest; an order with more shows how many are left out

Describer = Callable[[OutboxEvent], "str | tuple[str, list[str]] | None"]


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # "event", "comment" or "note" (an entry an app derives from the loaded row)
    sentence: str
    actor: str
    actor_kind: actors.ActorKind
    actor_user_id: int | None = None
    facts: list[str] = field(default_factory=list)
    topic: str = ""
    body: str = ""  # a comment's text
    order: int = 0  # ties on ``at``: the later written first


@dataclass(frozen=True)
class Document:
    label: str  # app_label.model, as in Comment.document_type
    area: str
    events: Callable[[Any], Q] | None = None
    extra: Callable[[Any], list[Entry]] | None = None
    title: Callable[[Any], str] | None = None
    url: Callable[[Any], str] | None = None

    def events_of(self, obj: Any) -> Q:
        if self.events is not None:
            return self.events(obj)
        return own_events(obj)

    def title_of(self, obj: Any) -> str:
        if self.title is not None:
            return self.title(obj)
        return str(obj)

    def url_of(self, obj: Any) -> str:
        if self.url is not None:
            return self.url(obj)
        get = getattr(obj, "get_absolute_url", None)
        return str(get()) if callable(get) else ""


_documents: dict[str, Document] = {}
_describers: list[tuple[str, Describer]] = []


def register_document(
    label: str,
    *,
    area: str,
    events: Callable[[Any], Q] | None = None,
    extra: Callable[[Any], list[Entry]] | None = None,
    title: Callable[[Any], str] | None = None,
    url: Callable[[Any], str] | None = None,
) -> Document:
    doc = Document(label=label, area=area, events=events, extra=extra, title=title, url=url)
    _documents[label] = doc
    return doc


def register_describer(pattern: str, describer: Describer) -> None:
    """Sentences for topics matching ``pattern`` (fnmatch). The most specific pattern is asked first."""
    _describers[:] = [(p, d) for p, d in _describers if not (p == pattern and d is describer)]
    _describers.append((pattern, describer))
    _describers.sort(key=lambda item: (item[0].count("*"), -len(item[0])))


def label_of(obj: Model | type[Model]) -> str:
    return obj._meta.label_lower


def document_of(obj: Any) -> Document | None:
    return _documents.get(label_of(obj)) if isinstance(obj, Model) else None


def document_type(label: str) -> Document | None:
    return _documents.get(label)


def own_events(obj: Model) -> Q:
    return Q(aggregate_type=label_of(obj), aggregate_id=str(obj.pk))


def topic_in_words(topic: str) -> str:
    """'sales.order_confirmed' -> 'Order confirmed'."""
    what = topic.split(".", 1)[-1].replace("_", " ").replace(".", " ").strip()
    return what[:1].upper() + what[1:] if what else topic


def describe(event: OutboxEvent) -> tuple[str, list[str]]:
    """The sentence a person reads for the event, and the facts after it."""
    for pattern, describer in _describers:
        if not fnmatch.fnmatchcase(event.topic, pattern):
            continue
        try:
            said = describer(event)
        except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError):
            said = None  # a payload older than its describer: say what we can
        if said is None:
            continue
        if isinstance(said, tuple):
            return said[0], list(said[1])
        return said, []
    return topic_in_words(event.topic), []


def as_dict(value: Any) -> dict[str, Any]:
    """A payload's nested object, or {} (payloads are data others wrote: never trust their shape)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def amount(value: Any, currency: str) -> str:
    """An amount of a payload (a string there) as people read it: '$12.00'."""
    try:
        return formatting.money(value, currency or "", total=True)
    except (ArithmeticError, ValueError, TypeError):
        return f"{value} {currency}".strip()


def qty(value: Any) -> str:
    try:
        return formatting.number(value)
    except (ArithmeticError, ValueError, TypeError):
        return str(value)


def created_entry(obj: Any, sentence: str = "Created", *, at: Any = None) -> Entry:
    """'Created' by the row's creator (AuditedModel), for documents whose creation emits nothing;
    ``at``: the document's own business time, when it has one (a transfer's shipped_at)."""
    user = obj.created_by if getattr(obj, "created_by_id", None) else None
    return Entry(
        at=at or obj.created_at,
        kind="note",
        sentence=sentence,
        actor=actors.user_name(user) if user is not None else actors.SYSTEM,
        actor_kind="person" if user is not None else "system",
        actor_user_id=getattr(user, "pk", None),
        order=-1,
    )


def actor_kind(name: str, user_id: int | None) -> actors.ActorKind:
    """What stood behind an event, from what it recorded (erp.actor)."""
    if user_id is not None:
        return "api" if " via API key " in name else "person"
    if name and name != actors.SYSTEM:
        return "connector"
    return "system"


def event_entry(event: OutboxEvent) -> Entry:
    sentence, facts = describe(event)
    return Entry(
        at=event.created_at,
        kind="event",
        sentence=sentence,
        facts=facts,
        topic=event.topic,
        actor=event.actor or actors.SYSTEM,
        actor_kind=actor_kind(event.actor, event.actor_user_id),
        actor_user_id=event.actor_user_id,
        order=event.pk,
    )


def comment_entry(comment: Comment) -> Entry:
    return Entry(
        at=comment.created_at,
        kind="comment",
        sentence="Commented",
        body=comment.body,
        actor=actors.user_name(comment.author),
        actor_kind="person",
        actor_user_id=comment.author_id,
        order=comment.pk,
    )


@dataclass(frozen=True)
class Timeline:
    document: Document
    obj: Any
    entries: list[Entry]
    has_more: bool  # older events than MAX_EVENTS are not shown

    @property
    def key(self) -> str:
        """'sales.salesorder:42': what the comment form and the API name."""
        return f"{self.document.label}:{self.obj.pk}"


def comments_of(label: str, pk: Any) -> QuerySet[Comment]:
    return Comment.objects.filter(document_type=label, document_id=str(pk)).select_related("author")


def build(obj: Model, *, max_events: int = MAX_EVENTS) -> Timeline:
    """The document's timeline, newest first: two queries (events, comments with their authors)."""
    doc = document_of(obj)
    if doc is None:
        raise LookupError(f"No timeline is registered for {label_of(obj)}")
    events = list(
        OutboxEvent.objects.filter(doc.events_of(obj)).order_by("-created_at", "-id")[: max_events + 1]
    )
    has_more = len(events) > max_events
    events = events[:max_events]
    entries = [event_entry(e) for e in events]
    entries += [comment_entry(c) for c in comments_of(doc.label, obj.pk)]
    if doc.extra is not None:
        entries += doc.extra(obj)
    entries.sort(key=lambda e: (e.at, e.kind == "comment", e.order), reverse=True)
    return Timeline(document=doc, obj=obj, entries=entries, has_more=has_more)


def load(key: str) -> tuple[Document, Any]:
    """'sales.salesorder:42' -> the registered document and its row (LookupError when neither)."""
    label, _, pk = key.partition(":")
    doc = _documents.get(label.lower())
    if doc is None or not pk:
        raise LookupError(f"Unknown document {key!r}: name it as app_label.model:id (sales.salesorder:42).")
    model = apps.get_model(label)
    try:
        return doc, model._default_manager.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise LookupError(f"No {label} with id {pk}.") from None
