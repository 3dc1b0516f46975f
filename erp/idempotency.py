"""Idempotency-Key for every POST of the API: a retried request acts once.

Installed once for the whole API (erp.api installs ``idempotent`` around every
operation; erp.apiauth.ErpAuth calls ``begin`` once the caller is known):

1. ``idempotent`` notes the key and a fingerprint of the request (SHA-256 of the
   body; a JSON body by its parsed value, so key order and whitespace do not matter)
   before the operation runs.
2. After authentication (a failure stores nothing), ``begin`` INSERTs an
   IdempotencyRecord "processing" and commits it, before the operation acts. The
   unique constraint on (caller, key) decides between concurrent requests; there
   is no check-then-insert. The loser finds the record and answers:
   * same method, path and body, completed => the stored answer again, with
     ``Idempotent-Replayed: true``, without acting;
   * same method, path and body, still processing => 409 with Retry-After;
   * another method, path or body => 422.
3. After the operation, ``idempotent`` stores the status, the headers that matter
   (Content-Type, Location, ETag) and the body (encrypted: answers may hold secrets,
   e.g. a new API key); a 5xx deletes the record instead, so that a retry can act.

The caller is the API key (``key:<id>``) or, for a browser session, the user
(``user:<id>``). The path includes the query string. Keys are 1 to 255 printable
ASCII characters and are kept IDEMPOTENCY_KEY_TTL_HOURS (24); an expired record is
replaced on use and deleted by ``purge_expired`` (erp.tasks.purge_api_records_task).
A request whose worker dies while processing leaves its key "processing" until it
expires: retry with a new key after checking whether the first one acted.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.http.request import RawPostDataException
from django.utils import timezone

from erp import crypto
from erp.models import IdempotencyRecord
from erp.problems import problem_response

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
STORED_HEADERS = ("Content-Type", "Location", "ETag")
MAX_KEY_LENGTH = 255
RETRY_AFTER_SECONDS = 1
METHODS = frozenset({"POST"})
_REQUEST_ATTR = "_erp_idempotency"


class IdempotencyAnswer(Exception):
    """The answer to a request whose key was used before; erp.api returns ``response`` as it is."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(f"Idempotency-Key answered with {response.status_code}")
        self.response = response


@dataclass
class Pending:
    """A request that came with an Idempotency-Key, from before it runs to after."""

    key: str
    method: str
    path: str
    fingerprint: str
    record_id: int | None = None
    started: bool = False


def ttl() -> timedelta:
    return timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)


def key_is_valid(key: str) -> bool:
    return 1 <= len(key) <= MAX_KEY_LENGTH and all(" " <= char <= "~" for char in key)


def fingerprint(request: HttpRequest) -> str:
    """SHA-256 of what the request says: a JSON body by its parsed value (the same object with
    its keys in another order, or other whitespace, is the same request), any other body by
    its bytes."""
    try:
        body = request.body
    except RawPostDataException:  # the form was parsed already: hash what it held
        parts = sorted(request.POST.lists()) + sorted(
            (name, [f"{f.name}:{f.size}" for f in files]) for name, files in request.FILES.lists()
        )
        body = json.dumps(parts).encode()
    else:
        body = _canonical_json(body) or body
    return hashlib.sha256(body).hexdigest()


def _canonical_json(body: bytes) -> bytes | None:
    """The body's JSON value written one way (sorted keys, no spaces); None if not JSON."""
    if not body:
        return None
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # not JSON (UnicodeDecodeError is a ValueError), or too deep
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _pending(request: HttpRequest) -> Pending | None:
    return getattr(request, _REQUEST_ATTR, None)


def principal_of(user_id: int, api_key_id: int | None) -> str:
    return f"key:{api_key_id}" if api_key_id is not None else f"user:{user_id}"


# --- answers --------------------------------------------------------------------------------


def _invalid_key() -> IdempotencyAnswer:
    message = f"An {HEADER} is 1 to {MAX_KEY_LENGTH} printable ASCII characters."
    return IdempotencyAnswer(
        problem_response(
            422,
            message,
            title="Invalid Idempotency-Key",
            type_="urn:erp:problem:InvalidIdempotencyKey",
            errors=[{"field": HEADER, "message": message}],
        )
    )


def _mismatch(record: IdempotencyRecord) -> IdempotencyAnswer:
    return IdempotencyAnswer(
        problem_response(
            422,
            f"This {HEADER} was used with another request ({record.method} {record.path} and another "
            "body); use a new key for a new request.",
            title="Idempotency-Key reused",
            type_="urn:erp:problem:IdempotencyKeyReused",
            errors=[{"field": HEADER, "message": "Already used with another request."}],
        )
    )


def _in_progress() -> IdempotencyAnswer:
    return IdempotencyAnswer(
        problem_response(
            409,
            f"A request with this {HEADER} is being processed; retry later.",
            title="Request in progress",
            type_="urn:erp:problem:IdempotencyKeyInProgress",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    )


def _replay(record: IdempotencyRecord) -> IdempotencyAnswer:
    assert record.response_status is not None
    # Bytes survive as latin-1 text (one character per byte) inside the encrypted token.
    body = crypto.decrypt(record.response_body).encode("latin-1") if record.response_body else b""
    response = HttpResponse(body, status=record.response_status)
    for name, value in record.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return IdempotencyAnswer(response)


# --- the protocol ---------------------------------------------------------------------------


def begin(request: HttpRequest, *, principal: str) -> None:
    """Claim the request's key for this caller, or raise the answer it already has.

    Called by the authentication of the API once the caller is known and allowed.
    Does nothing for a request without an Idempotency-Key.
    """
    pending = _pending(request)
    if pending is None or pending.started:
        return
    pending.started = True
    if not key_is_valid(pending.key):
        raise _invalid_key()
    for _ in range(3):  # a record deleted between our INSERT and our SELECT: try again
        now = timezone.now()
        try:
            # Its own transaction, committed before the operation acts (requests are not wrapped
            # in one: ATOMIC_REQUESTS is off), so that concurrent requests see the claim.
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    principal=principal,
                    key=pending.key,
                    method=pending.method,
                    path=pending.path,
                    fingerprint=pending.fingerprint,
                    created_at=now,
                    expires_at=now + ttl(),
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(principal=principal, key=pending.key).first()
            if existing is None:
                continue
            if existing.expires_at <= now:
                IdempotencyRecord.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
                continue
            if (existing.method, existing.path, existing.fingerprint) != (
                pending.method,
                pending.path,
                pending.fingerprint,
            ):
                raise _mismatch(existing) from None
            if existing.state == IdempotencyRecord.State.PROCESSING:
                raise _in_progress() from None
            raise _replay(existing) from None
        else:
            pending.record_id = record.pk
            return
    raise _in_progress()


def note(request: HttpRequest) -> Pending | None:
    """Note the key and the fingerprint of a POST that has an Idempotency-Key, before it runs."""
    key = request.headers.get(HEADER)
    if key is None or request.method not in METHODS:
        return None
    pending = Pending(
        key=key, method=request.method, path=request.get_full_path(), fingerprint=fingerprint(request)
    )
    setattr(request, _REQUEST_ATTR, pending)
    return pending


def finish(pending: Pending, response: HttpResponseBase | None) -> None:
    """Store the answer of the request that acted; forget the key after a 5xx (or a crash)."""
    if pending.record_id is None:
        return
    records = IdempotencyRecord.objects.filter(pk=pending.record_id)
    storable = isinstance(response, HttpResponse) and not response.streaming
    if response is None or response.status_code >= 500 or not storable:
        records.delete()
        return
    assert isinstance(response, HttpResponse)
    records.update(
        state=IdempotencyRecord.State.COMPLETED,
        response_status=response.status_code,
        response_headers={name: response[name] for name in STORED_HEADERS if response.has_header(name)},
        response_body=crypto.encrypt(response.content.decode("latin-1")) if response.content else "",
        completed_at=timezone.now(),
    )


def idempotent(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Wrap an operation of the API (installed on every one of them by erp.api)."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        pending = note(request)
        if pending is None:
            return run(request, *args, **kwargs)
        response: HttpResponseBase | None = None
        try:
            response = run(request, *args, **kwargs)
        finally:
            finish(pending, response)
        return response

    return wrapper


def purge_expired() -> int:
    """Delete the records whose time is up; return how many."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


# --- the OpenAPI schema ---------------------------------------------------------------------

KEY_PARAMETER: dict[str, Any] = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Makes the request safe to retry: a request repeated with the same key and body within "
        "24 hours returns the first answer (with `Idempotent-Replayed: true`) without acting again. "
        "The same key with another body or path is refused with 422; while the first request is "
        "still processing, 409 with Retry-After. 1 to 255 printable ASCII characters, e.g. a UUID."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[ -~]+$"},
    "example": "3f1c2a9e-7b1d-4c55-9f0e-2d6f1a8b9c10",
}
REPLAYED_RESPONSE_HEADER: dict[str, Any] = {
    "description": "`true` when this is the stored answer to an earlier request with the same key.",
    "schema": {"type": "string", "enum": ["true"]},
}


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the Idempotency-Key header to every authenticated POST operation of a schema, in place."""
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if method.upper() not in METHODS or not isinstance(operation, dict):
                continue
            if not operation.get("security"):
                continue  # nobody to scope the key to; the header is ignored
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("in") == "header" and p.get("name") == HEADER for p in parameters):
                parameters.append(dict(KEY_PARAMETER))
            for status, response in operation.get("responses", {}).items():
                if str(status).startswith("2") and isinstance(response, dict):
                    response.setdefault("headers", {}).setdefault(REPLAYED_HEADER, REPLAYED_RESPONSE_HEADER)
    return schema
