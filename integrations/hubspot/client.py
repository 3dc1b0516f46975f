"""HubSpot as the connector talks to it: the settings, credentials, rate limits and error words, and
everything that comes in (webhooks, reading a contact, the polling safety net).

Rate limits (``rate_buckets``): every call counts against "default", HubSpot's 100 requests per
rolling 10 seconds; search has a limit of its own (about 5 a second; 4 here), so searches count
against "search" (``bucket_for``). The daily quota depends on the portal's plan and the app's kind
(a private app's is shared by the portal, an OAuth app's is per portal and app), so it is read from
HubSpot rather than guessed: the ``X-HubSpot-RateLimit-Daily-Remaining`` header (private apps), and
a 429 whose ``policyName`` is ``DAILY``. HubSpot resets it at midnight in the portal's own time
zone, so a spent quota waits an hour and tries again rather than trusting a UTC midnight.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel, Field, field_validator

from integrations.contract import (
    Action,
    Connector,
    InboundItem,
    PullPage,
    RateLimitHint,
    TokenGrant,
    WebhookEnvelope,
    WebhookRequest,
)
from integrations.errors import PermanentError, TransientError
from integrations.field_owners import Owner, rules
from integrations.hubspot import mapping
from integrations.hubspot.auth import (
    API_ROOT,
    OAUTH,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    authorize_url,
    token_url,
    verify_v3,
)

DEFAULT, SEARCH = "default", "search"
TEN_SECONDS_MAX, SEARCH_PER_SECOND = 100, 4
DAILY_WAIT = 3600.0  # seconds a spent daily quota waits before trying again
SEARCH_PAGE, SEARCH_WINDOW = 100, 10_000  # HubSpot's search answers 10,000 results per query at most
CUSTOMER = "customer"
# Our words for where an order stands (integrations.outbound_crm.STAGES) -> the default pipeline's stages.
OUR_STAGES = ("confirmed", "shipped", "invoiced", "paid", "cancelled", "closed")
DEFAULT_STAGES: Mapping[str, str] = dict.fromkeys(OUR_STAGES, "closedwon") | {"cancelled": "closedlost"}
DELETIONS = frozenset({"contact.deletion", "contact.privacyDeletion"})


class HubSpotSettings(BaseModel):
    base_url: str = Field(API_ROOT, description="HubSpot's API (a local fake's address in tests).")
    portal_id: str = Field("", description="The HubSpot account (Hub ID): what its webhooks name.")
    app_id: str = Field("", description="The app's id: its own writes, reported back, are not read again.")
    pipeline: str = Field("default", description="The deal pipeline orders go to.")
    stages: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_STAGES),
        description="Our order stages (confirmed, shipped, invoiced, paid, cancelled, closed) -> the "
        "pipeline's dealstage ids.",
    )
    field_owners: dict[str, str] = Field(
        default_factory=dict,
        description="Who owns a customer field (hub, tool or latest), over the defaults.",
    )

    @field_validator("field_owners")
    @classmethod
    def _known_owners(cls, value: dict[str, str]) -> dict[str, str]:
        rules(value)  # a field or owner that does not exist is refused in a person's words
        return value

    @field_validator("stages")
    @classmethod
    def _our_stages(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(OUR_STAGES))
        if unknown:
            raise ValueError(
                f"Unknown order stage(s) {', '.join(unknown)}; ours are {', '.join(OUR_STAGES)}."
            )
        return value


class HubSpotClient(Connector):
    settings: HubSpotSettings
    oauth = OAUTH

    # --- configuration -------------------------------------------------------------------------

    def base_url(self) -> str:
        return self.settings.base_url.rstrip("/")

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        return {"Authorization": f"Bearer {secrets.get('access_token', '')}"}

    def account_id(self) -> str | None:
        return self.settings.portal_id or None

    def field_owners(self) -> dict[str, Owner]:
        """Who owns each customer field on this connection: the defaults with its overrides."""
        return rules(self.settings.field_owners)

    def authorize_url(self) -> str:
        return authorize_url(self.base_url())

    def refresh_token(self, secrets: Mapping[str, Any]) -> TokenGrant | None:
        """A new 30-minute access token (OAuth apps); a private app's token never expires (None)."""
        refresh = str(secrets.get("refresh_token") or "")
        if not refresh:
            return None
        data, headers = OAUTH.token_request(
            secrets, {"grant_type": "refresh_token", "refresh_token": refresh}
        )
        try:
            response = self.http.request("POST", token_url(self.base_url()), data=data, auth=headers)
        except PermanentError as exc:
            _, message = mapping.error_of(exc.body)
            raise PermanentError(
                f"HubSpot refused the token refresh ({message or exc.status}): the app was uninstalled or "
                'the refresh token revoked; sign in again with "Re-authorise".',
                status=exc.status,
                body=exc.body,
            ) from exc
        try:
            return OAUTH.grant(response.json())
        except (ValueError, TypeError, AttributeError) as exc:
            raise TransientError(f"HubSpot's token answer cannot be read: {exc}") from exc

    def bucket_for(self, method: str, url: str) -> str | None:
        return SEARCH if httpx.URL(url).path.rstrip("/").endswith("/search") else None

    def rate_limit_hint(self, response: httpx.Response) -> RateLimitHint | None:
        """A 429 waits on the limit its ``policyName`` names; otherwise the headers: a spent daily
        quota, a spent second, and how much of the 10-second window is used."""
        headers = response.headers
        interval = _number(headers.get("X-HubSpot-RateLimit-Interval-Milliseconds"))
        window = interval / 1000 if interval else 10.0
        if response.status_code == 429:
            policy = _policy(response)
            if policy == "DAILY":
                return RateLimitHint(wait_seconds=DAILY_WAIT, bucket=DEFAULT)
            if policy == "SECONDLY":  # search's limit, or a private app's per second: the request's own
                return RateLimitHint(wait_seconds=1.0)
            return RateLimitHint(wait_seconds=window, reset_seconds=window, bucket=DEFAULT)
        if _number(headers.get("X-HubSpot-RateLimit-Daily-Remaining")) == 0:
            return RateLimitHint(wait_seconds=DAILY_WAIT, bucket=DEFAULT)
        top, left = (_number(headers.get(f"X-HubSpot-RateLimit-{n}")) for n in ("Max", "Remaining"))
        second_left = _number(headers.get("X-HubSpot-RateLimit-Secondly-Remaining"))
        if top is None and second_left is None:
            return None
        return RateLimitHint(
            wait_seconds=1.0 if second_left == 0 else 0.0,
            used=top - left if top is not None and left is not None else None,
            limit=top,
            reset_seconds=window,
        )

    def test(self) -> str:
        details = self._call("GET", "/account-info/v3/details")
        portal = str(details.get("portalId") or "")
        if self.settings.portal_id and portal != self.settings.portal_id:
            raise PermanentError(
                f"The credentials are for HubSpot portal {portal}, not {self.settings.portal_id}."
            )
        return f"HubSpot portal {portal}"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call; a refusal raises in HubSpot's own words (its message and category)."""
        try:
            response = self.http.request(method, f"{self.base_url()}{path}", **kwargs)
        except PermanentError as exc:
            category, message = mapping.error_of(exc.body)
            if not message:
                raise
            raise PermanentError(
                f"HubSpot refused {method} {path.split('?')[0]}: {message} ({category or exc.status})",
                status=exc.status,
                body=exc.body,
            ) from exc
        return response.json() if response.content else {}

    # --- inbound -------------------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> bool:
        return verify_v3(
            str(self.connection.get_secrets().get("client_secret") or ""),
            method=request.method,
            url=request.url,
            body=request.body,
            timestamp=request.headers.get(TIMESTAMP_HEADER, ""),
            signature=request.headers.get(SIGNATURE_HEADER, ""),
            received_at=request.received_at,
        )

    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        """One envelope per event of the array, by its eventId, for the portal it names."""
        try:
            events = json.loads(request.body)
            if not isinstance(events, list):
                raise TypeError("the body is not an array of events")
            return [
                WebhookEnvelope(
                    event_id=str(event["eventId"]),
                    topic=str(event["subscriptionType"]),
                    account=str(event["portalId"]),
                    body=json.dumps(event, sort_keys=True, separators=(",", ":")).encode(),
                )
                for event in events
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"Not a HubSpot webhook: {exc}") from exc

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        """A contact's event is thin (the hub reads the contact); a merge names the survivor, a
        deletion deletes. Deals and companies are ours: HubSpot's changes to them are not read. The
        app's own writes, reported back, are not read again."""
        event = json.loads(body)
        if not topic.startswith("contact."):
            return []
        own = self.settings.app_id and str(event.get("sourceId") or "") == self.settings.app_id
        if own and event.get("changeSource") == "INTEGRATION":
            return []
        occurred = datetime.datetime.fromtimestamp(int(event["occurredAt"]) / 1000, tz=datetime.UTC)
        if topic in DELETIONS:
            return [InboundItem(CUSTOMER, str(event["objectId"]), action=Action.DELETE, updated_at=occurred)]
        contact = event.get("primaryObjectId") if topic == "contact.merge" else event.get("objectId")
        return [InboundItem(CUSTOMER, str(contact or event["objectId"]), updated_at=occurred)]

    def fetch(self, object_type: str, external_id: str) -> InboundItem:
        """The contact now (a merged id answers its survivor), with the history of the properties we
        map and its companies; a contact HubSpot no longer has is deleted."""
        if object_type != CUSTOMER:
            return super().fetch(object_type, external_id)
        params = {
            "properties": ",".join(mapping.CONTACT_READ),
            "propertiesWithHistory": ",".join(mapping.HISTORY_PROPERTIES),
            "associations": mapping.COMPANIES,
        }
        try:
            contact = self._call("GET", f"/crm/v3/objects/contacts/{external_id}", params=params)
        except PermanentError as exc:
            if exc.status == 404:
                return InboundItem(CUSTOMER, external_id, action=Action.DELETE)
            raise
        record = mapping.customer_record(contact)
        return InboundItem(CUSTOMER, record.external_id, updated_at=record.updated_at, record=record)

    def pull(self, object_type: str, *, since: datetime.datetime | None, page: str | None) -> PullPage:
        """Contacts modified since a time, oldest first (search: its own limit, used for this alone).
        Search stops at 10,000 results a query: a larger backlog ends the window there, and the next
        poll starts from the last modification seen."""
        if object_type != CUSTOMER:
            return super().pull(object_type, since=since, page=page)
        groups = []
        if since is not None:
            since_ms = mapping.millis(since)
            groups = [
                {"filters": [{"propertyName": mapping.LAST_MODIFIED, "operator": "GTE", "value": since_ms}]}
            ]
        body = {
            "filterGroups": groups,
            "properties": [mapping.LAST_MODIFIED],
            "limit": SEARCH_PAGE,
            "after": page or "0",
            "sorts": [{"propertyName": mapping.LAST_MODIFIED, "direction": "ASCENDING"}],
        }
        answer = self._call("POST", "/crm/v3/objects/contacts/search", json=body)
        items = tuple(
            InboundItem(
                CUSTOMER,
                str(row["id"]),
                updated_at=mapping.moment((row.get("properties") or {}).get(mapping.LAST_MODIFIED))
                or mapping.moment(row.get("updatedAt")),
            )
            for row in answer.get("results") or ()
        )
        after = str(((answer.get("paging") or {}).get("next") or {}).get("after") or "")
        if after.isdigit() and int(after) >= SEARCH_WINDOW:
            after = ""
        return PullPage(items=items, next_page=after or None)


def _number(value: str | None) -> int | None:
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def _policy(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("policyName") or "") if isinstance(body, dict) else ""
