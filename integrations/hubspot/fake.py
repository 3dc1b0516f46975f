"""A local fake HubSpot (CRM v3 and v4 at ``https://api.hubapi.com``, OAuth at the same host), for
the tests, the simulated day and the demo.

One ``FakeHubSpot`` is one portal (``PORTAL_ID``, the samples' 33) with the connector's app
installed (``APP_ID``; a private app's token too). It answers HTTP as HubSpot does, at any host and
under any path prefix over WSGI, standing on ``integrations.fakes`` (``FakeTool``, ``TokenStore``,
``SlidingWindow``, ``WebhookSender``). Layout: ``fake_data`` (constants, the portal's properties
and pipelines, bodies, times), ``fake_values`` (what a value must look like), ``fake_objects``
(objects, property history, merges, associations), ``fake_batch`` (batches, search, merge),
``fake_search``, ``fake_api`` (the endpoints), ``fake_oauth`` (private app token, OAuth),
``fake_limits`` (the three buckets and their headers), ``fake_webhooks`` (events, signed arrays,
retries); this module checks the token and the limits, routes, and holds the test controls.

* ``Authorization: Bearer <token>``: none, or one the fake does not know: 401
  INVALID_AUTHENTICATION (error_401.json); an OAuth token past its 30 minutes: 401
  EXPIRED_AUTHENTICATION "The OAuth token used to make this call expired N minute(s) ago."
  (HubSpot's words for it).
* Limits (``fake_limits``): 429 with the bucket's ``policyName``; ``limits=False`` turns them off.
  ``throttle_next`` answers the same 429 as the 10-second bucket; ``fail_next`` a 5xx in HubSpot's
  envelope; ``timeout_next(processed=True)`` (or ``lose_next_answer``) does the write and loses
  the answer; ``match`` is a substring of ``"POST /crm/v3/objects/contacts/batch/upsert"``.

Test controls, the sales rep's day in HubSpot: ``rep_edits``, ``rep_creates``, ``rep_merges``,
``rep_deletes`` (``CRM_UI``, at the fake's now); ``get_record``, ``values``, ``associated_ids``;
``issue_tokens``, ``expire_tokens``, ``revoke_refresh_tokens``; webhooks ``set_target``,
``deliver_webhooks(send, now=None)``, ``take_events``, ``signed``, ``subscribe``; ``snapshot``.
"""

from __future__ import annotations

import datetime
import json
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

from integrations.fakes.base import Answer, FakeTool, Incoming
from integrations.fakes.faults import Fault
from integrations.hubspot.fake_api import CrmApi
from integrations.hubspot.fake_data import (
    APP_ID,
    BASE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    PORTAL_ID,
    PRIVATE_APP_TOKEN,
    REFRESH_TOKEN,
    error_body,
    invalid_values,
    rate_limit_body,
    stamp,
    unauthenticated_body,
)
from integrations.hubspot.fake_limits import HubSpotLimits
from integrations.hubspot.fake_oauth import HubSpotOAuth
from integrations.hubspot.fake_objects import Record, Source
from integrations.hubspot.fake_values import as_string, problems
from integrations.hubspot.fake_webhooks import HubSpotWebhooks, sign_v1, sign_v3, verify_v3

__all__ = [
    "APP_ID",
    "BASE_URL",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "PORTAL_ID",
    "PRIVATE_APP_TOKEN",
    "REFRESH_TOKEN",
    "FakeHubSpot",
    "shared_fake",
    "sign_v1",
    "sign_v3",
    "verify_v3",
    "wsgi_app",
]

_ROOT = re.compile(r"/(crm|oauth|account-info)/.*$")


class RefusedEdit(ValueError):
    """A test control asked HubSpot for what it refuses (its message, as the API would say it)."""


# The mixins read ``clock`` as a bare now-callable; FakeTool's is a fakes.clock.Clock, which is one.
class FakeHubSpot(FakeTool, HubSpotWebhooks, CrmApi, HubSpotOAuth, HubSpotLimits):  # type: ignore[misc]
    """A HubSpot portal in memory that speaks CRM v3/v4; thread-safe. See the module doc."""

    tool = "hubspot"

    def __init__(
        self,
        *,
        clock: Callable[[], datetime.datetime] | None = None,
        monotonic: Callable[[], float] | None = None,
        portal_id: int = PORTAL_ID,
        app_id: int = APP_ID,
        limits: bool = True,
    ) -> None:
        super().__init__(clock=clock, monotonic=monotonic)
        self.lock = self._lock  # for a harness that reads the state while requests come in
        self.portal_id = portal_id
        self.app_id = app_id
        self.limits = limits
        self.reset()

    def reset(self) -> None:
        """Forget everything (objects, tokens, limits, events, request log, faults)."""
        with self._lock:
            self.requests.clear()
            self.clear_failures()
            self.reset_oauth()
            self.reset_limits()
            self.reset_objects()
            self.reset_webhooks()

    # --- HTTP ---------------------------------------------------------------------------------------------

    @staticmethod
    def parts(request: Incoming) -> list[str] | None:
        """The path from HubSpot's root on (under any prefix), split; None: not HubSpot's."""
        found = _ROOT.search(request.path)
        return found.group(0).strip("/").split("/") if found else None

    def serve(self, request: Incoming) -> Answer:
        return self.answer(request, None)

    def answer(self, request: Incoming, fault: Fault | None) -> Answer:
        """HubSpot's order: sign-in paths; else the token, a planned fault, the limits, the API."""
        parts = self.parts(request)
        if parts is None:
            return self._json(404, error_body("OBJECT_NOT_FOUND", f"No route for {request.path}"))
        signing_in = self.oauth_respond(request, parts)
        if signing_in is not None:
            if fault is not None and fault.kind in ("throttle", "fail"):
                return self._json(fault.status or 503, error_body("INTERNAL_ERROR", "internal error"))
            status, body, headers = signing_in
            return self._json(status, body, headers)
        authorization = request.headers.get("authorization", "")
        verdict, kind = self.check_token(authorization)
        if verdict == "expired":
            minutes = self.expired_for(authorization)
            message = f"The OAuth token used to make this call expired {minutes} minute(s) ago."
            return self._json(401, error_body("EXPIRED_AUTHENTICATION", message))
        if verdict != "ok":
            return self._json(401, unauthenticated_body())
        if fault is not None and fault.kind == "throttle":
            return self._json(
                429, rate_limit_body("TEN_SECONDLY_ROLLING", self.group(kind)), self.limit_headers(kind)
            )
        search = parts[-1] == "search"
        refusal = self.admit(kind, search=search)
        if refusal is not None:
            return self._json(429, refusal, self.limit_headers(kind))
        if fault is not None and fault.kind == "fail":
            body = fault.body if fault.body is not None else error_body("INTERNAL_ERROR", "internal error")
            return self._json(fault.status or 503, body, self.limit_headers(kind))
        status, body = self.api(request, parts, Source.app(self.app_id))
        if status in (404, 405) and body is None:
            body = error_body("OBJECT_NOT_FOUND", f"No route for {request.method} {request.path}")
        return self._json(status, body, self.limit_headers(kind))

    def _json(self, status: int, body: Any, extra: dict[str, str] | None = None) -> Answer:
        headers = {"Content-Type": "application/json;charset=utf-8", **(extra or {})}
        headers.setdefault("X-HubSpot-Correlation-Id", str(uuid.uuid4()))
        return status, headers, b"" if body is None else json.dumps(body).encode()

    # --- the sales rep, in HubSpot ------------------------------------------------------------------------

    def rep_edits(self, object_type: str, object_id: str, **values: Any) -> dict[str, str | None]:
        """The sales rep changes an object in HubSpot (CRM_UI, at the fake's now): what changed.
        Refused values raise ``RefusedEdit`` (HubSpot's UI would not save them either)."""
        with self._lock:
            record = self._record(object_type, object_id)
            return self.update(record, self._checked(object_type, values, record), Source.rep())

    def rep_creates(self, object_type: str, **values: Any) -> Record:
        """The sales rep creates an object in HubSpot (a duplicate contact, a company)."""
        with self._lock:
            return self.create(object_type, self._checked(object_type, values, None), Source.rep())

    def rep_merges(self, object_type: str, primary_id: str, merged_id: str) -> Record:
        """The sales rep merges ``merged_id`` into ``primary_id`` (the primary's id survives)."""
        with self._lock:
            primary, merged = self._record(object_type, primary_id), self._record(object_type, merged_id)
            if primary is merged:
                raise RefusedEdit(f"{object_type} {primary_id} and {merged_id} are the same record")
            return self.merge(primary, merged, Source.rep())

    def rep_deletes(self, object_type: str, object_id: str) -> None:
        with self._lock:
            self.archive(self._record(object_type, object_id), Source.rep())

    def rep_associates(self, from_type: str, from_id: str, to_type: str, to_id: str, type_id: int) -> None:
        with self._lock:
            self.associate(
                from_type,
                self._record(from_type, from_id).id,
                to_type,
                self._record(to_type, to_id).id,
                type_id,
            )

    def lose_next_answer(self, match: str | None = None) -> None:
        """HubSpot does the next (matching) request; its answer is lost on the way back."""
        self.timeout_next(1, match=match, processed=True)

    def _record(self, object_type: str, object_id: str) -> Record:
        record = self.find(object_type, str(object_id))
        if record is None:
            raise KeyError(f"HubSpot has no {object_type} {object_id}")
        return record

    def _checked(
        self, object_type: str, values: dict[str, Any], record: Record | None
    ) -> dict[str, str | None]:
        strings = {name: as_string(value) for name, value in values.items()}
        found = problems(object_type, strings, current=record.values if record else None)
        if found:
            raise RefusedEdit(invalid_values(found))
        clash = self.conflict(object_type, strings, record)
        if clash is not None:
            raise RefusedEdit(self.conflict_message(object_type, clash[1]))
        return strings

    # --- reading the state ----------------------------------------------------------------------------------

    def get_record(self, object_type: str, object_id: str) -> Record | None:
        """An object by id (a merged id answers its primary); None when there is none."""
        with self._lock:
            return self.find(object_type, str(object_id))

    def values(self, object_type: str, object_id: str) -> dict[str, str | None]:
        """An object's current values (every property that has one)."""
        with self._lock:
            return dict(self._record(object_type, object_id).values)

    def associated_ids(self, from_type: str, from_id: str, to_type: str) -> dict[str, list[int]]:
        with self._lock:
            return self.associated(from_type, self._record(from_type, from_id).id, to_type)

    def snapshot(self) -> dict[str, Any]:
        """The portal as plain JSON for drift checks: every object's current values, whether it is
        archived, its associations, and the merged ids with their primary."""
        with self._lock:
            state: dict[str, Any] = {"tool": self.tool, "at": stamp(self.clock()), "portalId": self.portal_id}
            for object_type, records in self.objects.items():
                state[object_type] = {
                    r.id: {
                        "properties": dict(sorted(r.values.items())),
                        "archived": r.archived_at is not None,
                        "associations": {
                            to: self.associated(object_type, r.id, to)
                            for to in self.objects
                            if to != object_type
                        },
                    }
                    for r in records.values()
                }
            state["merged"] = {t: dict(m) for t, m in self.merged.items()}
            return state


_shared: FakeHubSpot | None = None
_shared_lock = threading.Lock()


def shared_fake() -> FakeHubSpot:
    """One fake per process, for ``make run``: the demo's connection and the served app share it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FakeHubSpot()
        return _shared


def wsgi_app() -> FakeHubSpot:
    """A fresh fake HubSpot as a WSGI app (``manage.py run_fake hubspot``)."""
    return FakeHubSpot()
