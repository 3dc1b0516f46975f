"""What the domain APIs share: the output types of money and quantities, look-ups, and lists.

Money and quantities: one rule for every API
--------------------------------------------
* A quantity goes out as a decimal string with the 4 places it is stored with: ``"12.0000"``.
* Money goes out as a decimal string with the minor-unit digits of its currency:
  ``"705.91"`` (USD), ``"1200"`` (JPY), ``"1.250"`` (KWD). Unit prices and costs are stored
  with 4 places; they show digits beyond the minor unit only when they carry them
  (``"0.1234"``, but ``"12.50"``, never ``"12.5000"``). Nothing is lost and nothing is padded.
* The currency of an amount is the ``currency`` of the nearest object around it in the
  answer (a document, and so its lines); it is always given next to the amounts of a
  document. Amounts without one -- costs, stock values -- are in the base currency
  (``settings.ERP_BASE_CURRENCY``, USD unless set), and so is anything typed ``BaseMoney``.
* Rates and percentages go out as decimal strings as stored (``"0.2000"``).
* All of them come in as strings or JSON numbers (typed ``QuantityIn`` and ``MoneyIn``: a
  number that cannot be stored, such as ``"1e30"`` or ``NaN``, is a 422 naming the field);
  the services quantize them. Nothing goes out as a float.

Look-ups and lists
------------------
``get_or_404`` answers 404 naming what is missing (and the input field that named it);
``filtered`` runs query parameters through an app's FilterSet (422 on an invalid filter) and
then through a ``Listing``: ``ordering`` from an allow-list, ``updated_since`` for incremental
sync and ``expand`` for related rows fetched with the page (at a constant number of queries).

Answers
-------
``Shown`` is a model instance with what its answer shows beside the instance's own fields (the
latest orders of a customer, the actions an order's state allows), typed, and never stuck onto
the instance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import django_filters
from django.conf import settings
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Schema
from ninja.schema import DjangoGetter
from pydantic import (
    AfterValidator,
    ConfigDict,
    ModelWrapValidatorHandler,
    PlainSerializer,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from erp.apiauth import Principal
from erp.exceptions import NotFound, ValidationFailed
from erp.models import User
from erp.money import (
    MONEY_LIMIT,
    MONEY_PLACES,
    QUANTITY_LIMIT,
    currency_places,
    quantize_money,
    quantize_quantity,
)
from erp.pagination import Row
from erp.statements import Lookup

M = TypeVar("M", bound=Model)

CURRENCY_CONTEXT = "erp.currency"


# --- money and quantities -----------------------------------------------------------------------


def base_currency() -> str:
    """The currency of costs and stock values (amounts that belong to no document)."""
    return str(settings.ERP_BASE_CURRENCY)


def quantity_str(value: Decimal) -> str:
    return format(quantize_quantity(value), "f")


def money_str(value: Decimal, currency: str | None = None) -> str:
    """``value`` with the minor-unit digits of ``currency``, and more only where it carries them, up
    to the places money is stored with: "12.50" and "12.125" in EUR, "1200" in JPY.

    Written as text (the stored amount's digits, its trailing zeros beyond the currency's cut): an
    answer formats every amount it shows this way, 28 in an order's, 250 in a page of 50 lines."""
    text = format(quantize_money(value), "f")  # MONEY_PLACES digits after the point, never an exponent
    places = min(currency_places(currency or base_currency()), MONEY_PLACES)
    point = len(text) - MONEY_PLACES - 1
    digits = text[point + 1 :].rstrip("0").ljust(places, "0")
    return f"{text[:point]}.{digits}" if digits else text[:point]


def _money_out(value: Decimal, info: SerializationInfo) -> str:
    context = info.context if isinstance(info.context, dict) else {}
    return money_str(value, context.get(CURRENCY_CONTEXT))


def _base_money_out(value: Decimal) -> str:
    return money_str(value, base_currency())


def _rate_out(value: Decimal) -> str:
    return format(value, "f")


Quantity = Annotated[
    Decimal,
    PlainSerializer(quantity_str, return_type=str),
    Field(examples=["12.0000"]),
]
Money = Annotated[
    Decimal,
    PlainSerializer(_money_out, return_type=str),
    Field(examples=["705.91"], description="in the currency given next to it"),
]
BaseMoney = Annotated[
    Decimal,
    PlainSerializer(_base_money_out, return_type=str),
    Field(examples=["4.2500"], description="in the base currency"),
]
Rate = Annotated[Decimal, PlainSerializer(_rate_out, return_type=str), Field(examples=["0.2000"])]


def _storable(limit: Decimal) -> Callable[[Decimal], Decimal]:
    digits = len(str(int(limit))) - 1

    def check(value: Decimal) -> Decimal:
        if not value.is_finite() or abs(value) >= limit:
            raise PydanticCustomError(
                "out_of_range",
                "Must be a finite number with at most {digits} digits before the point.",
                {"digits": digits},
            )
        return value

    return check


# Input numbers: what the services may quantize without overflowing (quantities, rates, factors).
QuantityIn = Annotated[Decimal, AfterValidator(_storable(QUANTITY_LIMIT))]
MoneyIn = Annotated[Decimal, AfterValidator(_storable(MONEY_LIMIT))]


class _Getter(DjangoGetter):
    """ninja's reader of an object's fields, with a dotted alias (``product.sku``) followed step by
    step, instead of through a Django template ``Variable`` parsed and resolved again for every
    field of every row (on a list page of 50 moves that was nearly half of the answer's CPU).

    Each step reads an attribute (or a key of a dict); an empty step (``lot.code`` of a move
    without a lot) is a missing field, so the field's default applies, as before. Unlike a template
    variable, a step is never called: the aliases name attributes and properties, not methods."""

    __slots__ = ()

    def __getattr__(self, key: str) -> Any:
        obj = self._obj
        if key in self._schema_cls._ninja_resolvers or isinstance(obj, dict):
            return super().__getattr__(key)
        if "." not in key:
            try:
                value = getattr(obj, key)
            except AttributeError:
                return super().__getattr__(key)  # whatever else ninja would try
            return self._convert_result(value)
        value = obj
        for step in key.split("."):
            if value is None:
                raise AttributeError(key)
            if isinstance(value, Mapping):
                if step not in value:
                    raise AttributeError(key)
                value = value[step]
            else:
                value = getattr(value, step)
        return self._convert_result(value)


class ApiSchema(Schema):
    """A ninja Schema whose ``currency`` (when it has one) formats the ``Money`` inside it, and
    whose dotted aliases are read quickly (``_Getter``).

    The currency travels down the answer in the serialization context, so a document's lines,
    which carry no currency of their own, are written in the document's.
    """

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(
        cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        # ninja's own, with _Getter for its DjangoGetter (this one replaces it: the same name)
        if cls.model_config.get("extra") == "forbid" or cls.model_config.get("validate_assignment", False):
            handler(values)
        if type(values) is Row:
            # A list's row read as this schema's columns: keyed by the fields' aliases, pydantic
            # reads it as it is, and only the resolved fields go through the getter.
            if cls._ninja_resolvers:
                getter = _Getter(values, cls, info.context)
                for name in cls._ninja_resolvers:
                    field = cls.model_fields.get(name)
                    values[(field.alias if field else None) or name] = getattr(getter, name)
            return handler(values)
        return handler(_Getter(values, cls, info.context))

    @model_serializer(mode="wrap")
    def _with_currency(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo):
        # No return annotation on purpose: pydantic then documents the fields, not "any".
        currency = getattr(self, "currency", None)
        context = info.context
        if not isinstance(currency, str) or not currency or not isinstance(context, dict):
            return handler(self)
        outer = context.get(CURRENCY_CONTEXT)
        context[CURRENCY_CONTEXT] = currency
        try:
            return handler(self)
        finally:
            context[CURRENCY_CONTEXT] = outer


# --- who is calling, and what they name ----------------------------------------------------------


def principal(request: HttpRequest) -> Principal:
    """Who is calling: what ``ErpAuth`` authenticated (ninja sets it as ``request.auth``)."""
    auth = getattr(request, "auth", None)
    if not isinstance(auth, Principal):
        raise TypeError("This request was not authenticated by ErpAuth: it has no principal.")
    return auth


def user_of(request: HttpRequest) -> User:
    return principal(request).user


def get_or_404(
    source: type[M] | QuerySet[M] | Lookup[M], pk: int, what: str, *, field: str | None = None
) -> M:
    """The row with this id, or a 404 naming it (and the input field that referenced it).

    ``source`` is a model, a QuerySet, or for a hot path an ``erp.statements.Lookup`` taking the
    id as ``pk`` (``Lookup(lambda pk: Channel.objects.select_related(...).filter(pk=pk))``),
    built once per process instead of on every call."""
    if isinstance(source, Lookup):
        obj = source.first(pk=pk)
    else:
        queryset = source if isinstance(source, QuerySet) else source._default_manager.all()
        obj = queryset.filter(pk=pk).first()
    if obj is None:
        message = f"No {what} with id {pk}."
        raise NotFound(message, field_errors={field: [message]} if field else None)
    return obj


def no_nulls(changes: dict[str, Any], nullable: Iterable[str] = ()) -> None:
    """PATCH: a field sent as null that cannot be empty is refused (422), not turned into a crash."""
    allowed = set(nullable)
    nulls = sorted(name for name, value in changes.items() if value is None and name not in allowed)
    if nulls:
        raise ValidationFailed(
            f"Cannot be null: {', '.join(nulls)}.", field_errors={name: ["Cannot be null."] for name in nulls}
        )


# --- answers: a model instance and what is computed for it ---------------------------------------


@dataclass(frozen=True)
class Shown(Generic[M]):
    """A model instance as an answer shows it: the instance (``obj``) and, as the fields of a
    subclass, what is computed for the answer beside the instance's own fields.

    A schema reads the subclass's fields from it and every other name from the instance, so what
    is computed is typed where it is computed and nothing is stuck onto the instance::

        @dataclass(frozen=True)
        class CustomerDetail(Shown[Customer]):
            recent_orders: list[SalesOrder]

        CustomerDetail(obj=customer, recent_orders=[...])  # answered with CustomerDetailOut

    To the type checker a ``Shown`` has only its fields: code reads the instance as ``.obj``.
    """

    obj: M

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            # Only names the dataclass does not have; never its own (while it is being built or copied).
            if name == "obj" or name.startswith("__"):
                raise AttributeError(name)
            return getattr(self.obj, name)


def model_of(answer: M | Shown[M]) -> M:
    """The model instance of an answer, shown or not."""
    return answer.obj if isinstance(answer, Shown) else answer


# --- lists: filters, ordering, updated_since, expand ------------------------------------------------

LIST_PARAMETERS = frozenset({"ordering", "updated_since", "expand"})
Expander = Callable[[QuerySet[Any]], QuerySet[Any]]


def ordering_param(names: Iterable[str], *, default: str) -> Any:
    """The ``ordering`` query parameter of a list, documenting its allow-list."""
    allowed = ", ".join(names)
    return Field(
        None,
        description=(
            f"Sort keys, comma-separated, '-' for descending: {allowed}. Default: {default}. "
            "Any other key is refused (422)."
        ),
        examples=["-updated_at,id"],
    )


def expand_param(*names: str) -> Any:
    """The ``expand`` query parameter of a list: related rows returned with each item."""
    return Field(
        None,
        description=(
            f"Related rows to return with each item, comma-separated: {', '.join(names)}. "
            "They are fetched with the page (a constant number of queries); left out, those fields are null."
        ),
        examples=[names[0]],
    )


def updated_since_param() -> Any:
    return Field(
        None,
        description=(
            "Only items changed at or after this moment (ISO 8601; without an offset, the server's time "
            "zone). For incremental sync: remember the largest updated_at seen, and ask with "
            "ordering=updated_at,id."
        ),
        examples=["2030-01-31T12:00:00Z"],
    )


class Listing:
    """What one list endpoint offers beyond its filters.

    ``ordering`` maps each public sort key to a model field (or annotation); ``updated`` is the
    field ``updated_since`` compares (None: the list has no such field and does not offer it);
    ``expand`` maps each expandable name to what it adds to the queryset (a Prefetch). A sort
    always ends with the primary key, so pages are stable.
    """

    def __init__(
        self,
        *,
        ordering: Mapping[str, str],
        updated: str | None = "updated_at",
        expand: Mapping[str, Expander] | None = None,
    ) -> None:
        self.ordering = dict(ordering)
        self.updated = updated
        self.expand = dict(expand or {})

    def order(self, queryset: QuerySet[M], value: str | None) -> QuerySet[M]:
        terms = [term.strip() for term in (value or "").split(",") if term.strip()]
        if not terms:
            return queryset
        keys = [(term[1:], "-") if term.startswith("-") else (term, "") for term in terms]
        unknown = [term for term, (name, _) in zip(terms, keys, strict=True) if name not in self.ordering]
        if unknown:
            allowed = sorted(self.ordering)
            message = (
                f"Cannot sort by {', '.join(repr(u) for u in unknown)}. "
                f"Sort keys: {', '.join(allowed)} ('-' for descending)."
            )
            raise ValidationFailed(message, field_errors={"ordering": [message]}, allowed=allowed)
        fields = [f"{sign}{self.ordering[name]}" for name, sign in keys]
        if not any(f.lstrip("-") in ("pk", "id") for f in fields):
            fields.append("pk")
        return queryset.order_by(*fields)

    def since(self, queryset: QuerySet[M], value: datetime | None) -> QuerySet[M]:
        if value is None:
            return queryset
        if self.updated is None:  # pragma: no cover - the parameter is not offered on such lists
            raise ValidationFailed("This list cannot be filtered by updated_since.")
        moment = timezone.make_aware(value) if timezone.is_naive(value) else value
        return queryset.filter(**{f"{self.updated}__gte": moment})

    def expanded(self, queryset: QuerySet[M], value: str | None) -> QuerySet[M]:
        names = [name.strip() for name in (value or "").split(",") if name.strip()]
        unknown = [name for name in names if name not in self.expand]
        if unknown:
            allowed = sorted(self.expand)
            message = (
                f"Cannot expand {', '.join(repr(u) for u in unknown)}. "
                f"Expandable: {', '.join(allowed) or 'nothing'}."
            )
            raise ValidationFailed(message, field_errors={"expand": [message]}, allowed=allowed)
        for name in dict.fromkeys(names):
            queryset = self.expand[name](queryset)
        return queryset

    def apply(self, queryset: QuerySet[M], params: Schema | None) -> QuerySet[M]:
        queryset = self.since(queryset, getattr(params, "updated_since", None))
        queryset = self.order(queryset, getattr(params, "ordering", None))
        return self.expanded(queryset, getattr(params, "expand", None))


def filtered(
    filterset_class: type[django_filters.FilterSet] | None,
    params: Schema | None,
    queryset: QuerySet[M],
    *,
    listing: Listing | None = None,
    exclude: Iterable[str] = (),
) -> QuerySet[M]:
    """The query parameters through the app's FilterSet (an invalid filter is a 422), then the listing's
    ``updated_since``, ``ordering`` and ``expand``."""
    data = (
        params.model_dump(exclude_none=True, exclude=set(exclude) | LIST_PARAMETERS)
        if filterset_class is not None and params is not None
        else {}
    )
    if filterset_class is not None and data:  # with no filter given, every filter lets all through
        filterset = filterset_class(data, queryset=queryset)
        if not filterset.is_valid():
            raise ValidationFailed(
                "Invalid filter.",
                field_errors={
                    name: [str(m) for m in messages] for name, messages in filterset.errors.items()
                },
            )
        queryset = filterset.qs
    return listing.apply(queryset, params) if listing is not None else queryset


def examples(*items: dict[str, Any]) -> ConfigDict:
    """A schema's ``model_config`` with examples for the OpenAPI document."""
    return ConfigDict(json_schema_extra={"examples": list(items)})
