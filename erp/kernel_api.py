"""The kernel's own endpoints: health, who am I, the event feed, and API keys."""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, FilterSchema, ModelSchema, Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from erp import events
from erp.access import KEYS_SCOPE, scope_grants
from erp.api_helpers import principal as principal_of
from erp.apiauth import ErpAuth, Forbidden, Principal
from erp.filters import OutboxEventFilter
from erp.health import check_broker, check_database
from erp.models import ApiKey, OutboxEvent
from erp.selectors import api_key_list, outbox_event_list
from erp.services import api_key_admin, api_key_create, api_key_revoke

router = Router(tags=["System"])


class CheckOut(Schema):
    ok: bool
    detail: str


class HealthOut(Schema):
    status: str
    database: CheckOut
    broker: CheckOut


@router.get("/health", response={200: HealthOut, 503: HealthOut}, auth=None)
def health(request: HttpRequest) -> Status[HealthOut]:
    """Database and broker reachability. 200 when both are up, 503 otherwise."""
    database, broker = check_database(), check_broker()
    ok = database.ok and broker.ok
    return Status(
        200 if ok else 503,
        HealthOut(
            status="ok" if ok else "degraded",
            database=CheckOut(ok=database.ok, detail=database.detail),
            broker=CheckOut(ok=broker.ok, detail=broker.detail),
        ),
    )


class MeOut(Schema):
    username: str
    authenticated_by: str
    api_key: str | None
    scopes: list[str]


@router.get("/me", response=MeOut, auth=ErpAuth())
def me(request: HttpRequest) -> MeOut:
    """Who you are to the API, and the scopes you act with."""
    principal = principal_of(request)
    return MeOut(
        username=principal.user.get_username(),
        authenticated_by="api_key" if principal.api_key else "session",
        api_key=principal.api_key.prefix if principal.api_key else None,
        scopes=principal.scopes,
    )


class EventOut(Schema):
    id: int
    event_id: UUID
    topic: str
    aggregate_type: str
    aggregate_id: str
    sequence: int
    payload: dict
    created_at: datetime
    dispatched_at: datetime | None
    attempts: int
    last_error: str


class EventFilterIn(FilterSchema):
    topic: str | None = None
    aggregate_type: str | None = None
    aggregate_id: str | None = None
    status: str | None = None


@router.get("/events", response=list[EventOut], auth=ErpAuth("integrations"), tags=["Events"])
@paginate(PageNumberPagination, page_size=50)
def event_list(request: HttpRequest, filters: Query[EventFilterIn]):
    """Every event the backend recorded, newest first.

    Filters: topic (prefix), aggregate type and id, status (pending, dispatched, failing).
    """
    data = {k: v for k, v in filters.dict().items() if v is not None}
    filterset = OutboxEventFilter(data, queryset=outbox_event_list())
    if not filterset.is_valid():
        from erp.exceptions import ValidationFailed

        raise ValidationFailed(
            "Invalid filter.", field_errors={k: list(v) for k, v in filterset.errors.items()}
        )
    return filterset.qs


@router.post("/events/{event_id}/dispatch", response=EventOut, auth=ErpAuth("integrations"), tags=["Events"])
def event_dispatch(request: HttpRequest, event_id: int) -> OutboxEvent:
    """Dispatch a pending or failing event now (it is dispatched at most once)."""
    get_object_or_404(OutboxEvent, pk=event_id)
    events.dispatch_event(event_id)
    return OutboxEvent.objects.get(pk=event_id)


# --- API keys ----------------------------------------------------------------------------------


class ApiKeyOut(ModelSchema):
    owner: str = Field(description="Username of the key's owner.")
    active: bool = Field(description="False once revoked.")
    scopes: list[str] = Field(description='Granted scopes, "<area>:read" or "<area>:write".')

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "rate_limit_per_minute",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]

    @staticmethod
    def resolve_owner(obj: ApiKey) -> str:
        return obj.user.get_username()

    @staticmethod
    def resolve_active(obj: ApiKey) -> bool:
        return obj.is_active


class ApiKeyCreatedOut(ApiKeyOut):
    secret: str = Field(
        description="The key itself, for `Authorization: Bearer <secret>`. Shown only in this answer.",
        examples=["erp_1a2b3c4d_q8Jx..."],
    )

    @staticmethod
    def resolve_secret(obj: ApiKey, context: dict[str, Any]) -> str:
        return str(context["secret"])  # the raw key exists only in the request that issued it


class ApiKeyIn(Schema):
    name: str = Field(min_length=1, max_length=100, examples=["ShipStation"])
    scopes: list[str] | None = Field(
        default=None,
        description="`<area>:read` / `<area>:write`, and `keys:write` (create and revoke keys through the "
        "API); at most what you may do yourself (and, when you call with an API key, what that key may "
        "do). Default: every area scope of those; `keys:write` only when asked for.",
        examples=[["inventory:read", "sales:write"]],
    )
    rate_limit_per_minute: int | None = Field(
        default=None,
        ge=0,
        description="Requests per minute; default API_RATE_LIMIT_PER_MINUTE. Only API key admins may "
        "set more than the default, or 0 (unlimited).",
    )


class ApiKeyFilterIn(Schema):
    everyone: bool = Field(default=False, description="Every user's keys (API key admins only).")
    active: bool | None = Field(default=None, description="Only active (true) or revoked (false) keys.")


def _manages_all(principal: Principal) -> bool:
    """A key admin, through a session or through a key holding the integrations admin scope."""
    if not api_key_admin(principal.user):
        return False
    return principal.api_key is None or scope_grants(principal.api_key.scopes, "integrations", "write")


def _require_keys_scope(principal: Principal) -> None:
    """Through the API, an API key creates or revokes keys only with the keys:write scope."""
    if principal.api_key is not None and KEYS_SCOPE not in principal.api_key.scopes:
        raise Forbidden(f"Scope '{KEYS_SCOPE}' is required; this API key does not have it.")


def _visible_keys(principal: Principal) -> QuerySet[ApiKey]:
    return api_key_list(user=None if _manages_all(principal) else principal.user)


@router.get("/keys", response=list[ApiKeyOut], auth=ErpAuth(), tags=["API keys"])
@paginate(PageNumberPagination, page_size=50)
def key_list(request: HttpRequest, filters: Query[ApiKeyFilterIn]) -> QuerySet[ApiKey]:
    """Your API keys, newest first; with ``everyone=true``, every user's (API key admins only).

    The secret of a key is never shown again after its creation."""
    principal = principal_of(request)
    if filters.everyone:
        if not _manages_all(principal):
            raise Forbidden("Only API key admins may list every user's keys.")
        keys = api_key_list()
    else:
        keys = api_key_list(user=principal.user)
    if filters.active is not None:
        keys = keys.filter(revoked_at__isnull=filters.active)
    return keys


@router.post("/keys", response={201: ApiKeyCreatedOut}, auth=ErpAuth(), tags=["API keys"])
def key_create(request: HttpRequest, payload: ApiKeyIn) -> Status[ApiKeyCreatedOut]:
    """Issue yourself a key. The answer holds its secret, the only time it is shown.

    With an API key, that key needs the `keys:write` scope; the new key gets at most its scopes
    and is revoked whenever it is."""
    principal = principal_of(request)
    _require_keys_scope(principal)
    issued = api_key_create(
        user=principal.user,
        name=payload.name,
        scopes=payload.scopes,
        rate_limit_per_minute=payload.rate_limit_per_minute,
        parent=principal.api_key,
    )
    return Status(201, ApiKeyCreatedOut.model_validate(issued.api_key, context={"secret": issued.raw_key}))


@router.get("/keys/{key_id}", response=ApiKeyOut, auth=ErpAuth(), tags=["API keys"])
def key_detail(request: HttpRequest, key_id: int) -> ApiKey:
    """One of your keys (any key, for API key admins)."""
    return get_object_or_404(_visible_keys(principal_of(request)), pk=key_id)


@router.post("/keys/{key_id}/revoke", response=ApiKeyOut, auth=ErpAuth(), tags=["API keys"])
def key_revoke(request: HttpRequest, key_id: int) -> ApiKey:
    """Revoke one of your keys (any key, for API key admins): it stops working at once, and so do
    the keys created with it. With an API key, that key needs the `keys:write` scope.
    Revoking a revoked key changes nothing."""
    principal = principal_of(request)
    _require_keys_scope(principal)
    key = get_object_or_404(_visible_keys(principal), pk=key_id)
    return api_key_revoke(api_key=key)
