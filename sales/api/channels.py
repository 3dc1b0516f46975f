"""Sales channels."""

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, filtered, get_or_404, no_nulls, user_of
from erp.concurrency import if_match_param, locked_for_update, with_etag
from erp.exceptions import ValidationFailed
from erp.money import currency_problem
from inventory.models import Warehouse
from sales import selectors, services
from sales.api.common import PAGE_SIZE, router
from sales.filters import ChannelFilter
from sales.models import SalesChannel
from sales.schemas.channels import CHANNEL_ORDERING, ChannelFilterIn, ChannelIn, ChannelOut, ChannelPatchIn

CHANNELS = Listing(ordering=CHANNEL_ORDERING)


def _currency(code: str | None) -> None:
    if code is None:
        return
    if message := currency_problem(code):
        raise ValidationFailed(message, field_errors={"currency": [message]})


def _channels() -> QuerySet[SalesChannel]:
    return selectors.channel_list()


@router.get("/channels", response=list[ChannelOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def channel_list(request: HttpRequest, filters: Query[ChannelFilterIn]) -> QuerySet[SalesChannel]:
    return filtered(ChannelFilter, filters, _channels(), listing=CHANNELS)


@router.post("/channels", response={201: ChannelOut})
def channel_create(request: HttpRequest, payload: ChannelIn) -> SalesChannel:
    """A sales channel: where orders come from, the warehouse they ship from, prices with or without tax,
    and whether invoices bill ordered or shipped quantities."""
    data = payload.dict()
    data["warehouse"] = get_or_404(Warehouse, payload.warehouse, "warehouse", field="warehouse")
    channel = services.channel_create(**data, user=user_of(request))
    return get_or_404(_channels(), channel.pk, "sales channel")


@router.get("/channels/{channel_id}", response=ChannelOut)
def channel_detail(request: HttpRequest, channel_id: int, response: HttpResponse) -> SalesChannel:
    """A channel; the ``ETag`` header names its version, for ``If-Match`` on PATCH."""
    channel = get_or_404(_channels(), channel_id, "sales channel")
    with_etag(response, channel)
    return channel


@router.patch("/channels/{channel_id}", response=ChannelOut)
def channel_update(
    request: HttpRequest,
    channel_id: int,
    payload: ChannelPatchIn,
    response: HttpResponse,
    if_match: str | None = if_match_param(),
) -> SalesChannel:
    """Change the fields sent; ``is_active: false`` archives the channel (no new orders). With
    ``If-Match``: 412 when the channel changed since it was read."""
    changes = payload.dict(exclude_unset=True)
    no_nulls(changes)
    _currency(changes.get("currency"))
    if "warehouse" in changes:
        changes["warehouse"] = get_or_404(Warehouse, changes["warehouse"], "warehouse", field="warehouse")
    with locked_for_update(SalesChannel, channel_id, what="sales channel", if_match=if_match) as channel:
        services.channel_update(channel=channel, user=user_of(request), **changes)
    channel = get_or_404(_channels(), channel_id, "sales channel")
    with_etag(response, channel)
    return channel
