"""Who is acting: the person, API key, connector or system behind what happens now.

Kept in a context variable, so the outbox (``erp.events.emit``) can stamp each event with its
actor without every service passing it down:

- a browser request: ``ActorMiddleware`` remembers the request; the person is read at emit time
  from ``request.user`` (already loaded by the page's rights check, so no query);
- an API request: erp.apiauth sets ``request.user`` (the key's owner) and ``request.api_key``:
  "Ada Admin via API key 'shop-sync'", with the owner as ``actor_user``;
- a connector at work (inbound processing, polling, pushes, reconciliation): the hub wraps that
  work in ``acting_as("Shopify · Main store")``: a name, no user;
- a Celery task or a management command: "System", unless the task runs for the person who
  started it (``acting_for(user)``).

The innermost context wins: a connector's work run inside a request is the connector's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

ActorKind = Literal["person", "api", "connector", "system"]
SYSTEM = "System"
MAX_LENGTH = 150  # OutboxEvent.actor


@dataclass(frozen=True)
class Actor:
    name: str
    kind: ActorKind
    user: Any = None  # the acting user (a person, or an API key's owner); None otherwise

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None)


SYSTEM_ACTOR = Actor(SYSTEM, "system")

# What is acting now: an Actor, or a request resolved lazily (API keys authenticate in the view).
_current: ContextVar[Actor | HttpRequest | None] = ContextVar("erp_actor", default=None)


def user_name(user: Any) -> str:
    """A person as others read them: the full name, else the username."""
    full = (user.get_full_name() or "").strip() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()


def person(user: Any) -> Actor:
    return Actor(user_name(user)[:MAX_LENGTH], "person", user)


def api_call(user: Any, key_name: str) -> Actor:
    return Actor(f"{user_name(user)} via API key '{key_name}'"[:MAX_LENGTH], "api", user)


def connector(name: str) -> Actor:
    return Actor(name[:MAX_LENGTH] or SYSTEM, "connector")


def _of_request(request: HttpRequest) -> Actor:
    user = getattr(request, "user", None)
    # request.user is lazy; a page's rights check has loaded it. One that was never read (a webhook,
    # whose work the hub wraps in acting_as) is not loaded here: that would cost a query.
    wrapped = getattr(user, "_wrapped", None)
    if user is None or wrapped is empty:
        return SYSTEM_ACTOR
    if not user.is_authenticated:
        return SYSTEM_ACTOR
    key = getattr(request, "api_key", None)
    if key is not None:
        return api_call(user, key.name)
    return person(user)


def current() -> Actor:
    """Who is acting now (never queries)."""
    value = _current.get()
    if value is None:
        return SYSTEM_ACTOR
    if isinstance(value, Actor):
        return value
    return _of_request(value)


@contextmanager
def _acting(value: Actor | HttpRequest) -> Iterator[None]:
    token = _current.set(value)
    try:
        yield
    finally:
        _current.reset(token)


def acting_as(name: str) -> Any:
    """``with acting_as("Shopify · Main store"):`` a connector (or any named non-person) acts."""
    return _acting(connector(name))


def acting_for(user: Any) -> Any:
    """``with acting_for(job.user):`` work done in the background for the person who started it.
    No user: the system."""
    return _acting(person(user) if user is not None else SYSTEM_ACTOR)


def acting_system() -> Any:
    return _acting(SYSTEM_ACTOR)


def from_request(request: HttpRequest) -> Any:
    return _acting(request)


class ActorMiddleware:
    """Remembers the request for the length of it (after AuthenticationMiddleware)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with from_request(request):
            response: HttpResponse = self.get_response(request)
        return response
