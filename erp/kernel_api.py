"""The kernel's own endpoints: health, who am I, and the event feed."""

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import FilterSchema, Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from erp import events
from erp.apiauth import ErpAuth, Principal
from erp.filters import OutboxEventFilter
from erp.health import check_broker, check_database
from erp.models import OutboxEvent
from erp.selectors import outbox_event_list

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
    principal: Principal = request.auth  # type: ignore[attr-defined]
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
