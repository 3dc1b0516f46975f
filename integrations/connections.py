"""Writes of connections and their mappings.

A connection's settings are validated against its connector's ``settings_schema``
and stored normalised (defaults filled in); its secrets against ``secrets_schema``
and stored encrypted (``Connection.set_secrets``). Secrets are write-only: no
function here returns them, and updating replaces only the secrets given (an
empty value keeps the stored one), so a form or an API client never has to
send a secret it does not want to change.

Errors are ``ValidationFailed`` with ``field_errors`` keyed ``settings.<name>``,
``secrets.<name>`` or the argument's name (``name``, ``api_version``), which the
API reports as problem details and the forms put next to the field.

Mappings: the warehouse and the sales channel are fields of the connection
(``connection_update``); a SKU mapping is an ``ExternalRef(connection, "sku",
sku -> Product)`` (``sku_mapping_create`` / ``sku_mapping_delete``). Mapping a
SKU that quarantined events wait for, and replaying them, is the inbound
side's ``quarantine_map_sku``.

Deleting: ``connection_delete`` refuses while the connection still has work in
flight — deliveries pending or retrying, inbound events received, retrying or
quarantined — unless ``force=True``, because deleting drops all of it along with
the connection's external ids. Pause the connection and let it drain (or retry,
replay or resolve what is left) first; dead letters and processed history do
not block.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pydantic
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from erp.exceptions import DomainError, NotFound, ValidationFailed
from integrations import registry
from integrations.contract import Capability, Connector
from integrations.models import (
    Connection,
    ConnectionStatus,
    Delivery,
    DeliveryStatus,
    ExternalRef,
    InboundEvent,
    InboundStatus,
)
from inventory.models import Product, Warehouse
from sales.models import SalesChannel
from sales.services import channel_create

SKU = "sku"
NAME_MAX = Connection._meta.get_field("name").max_length or 100
PENDING_DELIVERY = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
PENDING_INBOUND = (InboundStatus.RECEIVED, InboundStatus.FAILED, InboundStatus.QUARANTINED)


class ConnectionInUse(DomainError):
    """Work is still in flight for the connection; deleting it would drop that work."""

    title = "The connection still has work in flight"


# --- validation against the connector's schemas ---------------------------------------------------


def connector_class(key: str) -> type[Connector]:
    """The registered connector, or a field error on ``connector`` naming the known ones."""
    try:
        return registry.get(key)
    except registry.UnknownConnector as exc:
        raise ValidationFailed(str(exc), field_errors={"connector": [str(exc)]}) from None


def _known_fields(schema: type[pydantic.BaseModel]) -> set[str]:
    names = set()
    for name, info in schema.model_fields.items():
        names.add(name)
        if info.alias:
            names.add(info.alias)
    return names


def _validate(
    schema: type[pydantic.BaseModel], data: Mapping[str, Any], prefix: str, what: str
) -> dict[str, Any]:
    """The data as the schema reads it (defaults filled in), or a ValidationFailed naming each field."""
    if not isinstance(data, Mapping):
        raise ValidationFailed(
            f"The {what} must be an object.", field_errors={prefix: ["Must be an object."]}
        )
    errors: dict[str, list[str]] = {}
    if schema.model_config.get("extra") != "allow":
        known = _known_fields(schema)
        noun = what.removesuffix("s")
        for unknown in sorted(set(data) - known):
            errors.setdefault(f"{prefix}.{unknown}", []).append(
                f"Unknown {noun}; known: {', '.join(sorted(known)) or 'none'}."
            )
    try:
        validated = schema.model_validate(dict(data))
    except pydantic.ValidationError as exc:
        for error in exc.errors():
            if error.get("type") == "extra_forbidden":
                continue  # reported above, with the names that are known
            loc = [str(part) for part in error.get("loc", ())]
            key = ".".join([prefix, *loc]) if loc else prefix
            message = error.get("msg", "Invalid value.")
            if error.get("type") == "missing":
                message = "This field is required."
            errors.setdefault(key, []).append(message)
        validated = None
    if errors or validated is None:
        summary = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
        raise ValidationFailed(f"Invalid {what}: {summary}", field_errors=errors)
    dumped: dict[str, Any] = validated.model_dump(mode="json")
    return dumped


def validate_settings(connector: type[Connector], settings: Mapping[str, Any]) -> dict[str, Any]:
    return _validate(connector.settings_schema, settings, "settings", "settings")


def validate_secrets(connector: type[Connector], secrets: Mapping[str, Any]) -> dict[str, Any]:
    validated = _validate(connector.secrets_schema, secrets, "secrets", "secrets")
    return {k: v for k, v in validated.items() if v is not None and v != ""}


def _api_version(connector: type[Connector], requested: str, settings: Mapping[str, Any]) -> str:
    """The settings' api_version when the connector keeps it there (its schema validated it),
    else the one asked for (one of the connector's api_versions), else the connector's default."""
    if settings.get("api_version"):
        return str(settings["api_version"])
    version = (requested or "").strip()
    known = list(connector.api_versions)
    if not version:
        return known[0] if known else ""
    if known and version not in known:
        message = f"Unknown API version {version!r} for {connector.name}; known: {', '.join(known)}."
        raise ValidationFailed(message, field_errors={"api_version": [message]})
    return version


def _clean_name(name: str, *, exclude_pk: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(
            "A connection needs a name.", field_errors={"name": ["This field is required."]}
        )
    if len(name) > NAME_MAX:
        message = f"At most {NAME_MAX} characters."
        raise ValidationFailed(message, field_errors={"name": [message]})
    clash = Connection.objects.filter(name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        message = f"There is already a connection named {name!r}."
        raise ValidationFailed(message, field_errors={"name": [message]})
    return name


def _check_secret_values(secrets: Mapping[str, Any]) -> None:
    if not isinstance(secrets, Mapping):
        raise ValidationFailed(
            "The secrets must be an object.", field_errors={"secrets": ["Must be an object."]}
        )


# --- connections ----------------------------------------------------------------------------------


@transaction.atomic
def connection_create(
    *,
    connector: str,
    name: str,
    settings: Mapping[str, Any],
    secrets: Mapping[str, Any],
    api_version: str = "",
    warehouse: Warehouse | None = None,
    sales_channel: SalesChannel | None = None,
    own_channel: bool = True,
    user: Any = None,
) -> Connection:
    """A new, active connection of a registered connector, its settings and secrets validated.

    A connector that brings orders in gets a sales channel of its own when none is named
    (``own_channel``): named after the connection, selling from ``warehouse`` or the first
    active warehouse, in the base currency until its first order says the account's currency
    (see appliers.orders). So a connection made with no more than its credentials imports its
    first order at once."""
    cls = connector_class(connector)
    clean_name = _clean_name(name)
    _check_secret_values(secrets)
    errors: dict[str, list[str]] = {}
    clean_settings: dict[str, Any] = {}
    clean_secrets: dict[str, Any] = {}
    for validate, data, target in (
        (validate_settings, settings, clean_settings),
        (validate_secrets, secrets, clean_secrets),
    ):
        try:
            target.update(validate(cls, data))
        except ValidationFailed as exc:
            for field, messages in exc.field_errors.items():
                errors.setdefault(field, []).extend(messages)
    if errors:
        summary = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
        raise ValidationFailed(f"Invalid connection: {summary}", field_errors=errors)
    connection = Connection(
        connector=cls.key,
        name=clean_name,
        status=ConnectionStatus.ACTIVE,
        settings=clean_settings,
        api_version=_api_version(cls, api_version, clean_settings),
        warehouse=warehouse,
        sales_channel=sales_channel,
        created_by=user,
        updated_by=user,
    )
    connection.set_secrets(clean_secrets)
    try:
        with transaction.atomic():
            if sales_channel is None and own_channel and Capability.ORDERS_IN in cls.capabilities:
                connection.sales_channel = _own_channel(cls, clean_name, warehouse, user)
            connection.save()
    except IntegrityError:  # a concurrent create took the name between the check and the insert
        message = f"There is already a connection named {clean_name!r}."
        raise ValidationFailed(message, field_errors={"name": [message]}) from None
    return connection


def _own_channel(
    cls: type[Connector], name: str, warehouse: Warehouse | None, user: Any
) -> SalesChannel | None:
    """A sales channel for a new connection's orders (None: there is no warehouse to sell from)."""
    warehouse = warehouse or Warehouse.objects.filter(is_active=True).order_by("pk").first()
    if warehouse is None:
        return None
    base = slugify(name)[:28] or cls.key
    code, n = base, 1
    while SalesChannel.objects.filter(code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return channel_create(
        code=code,
        name=name[:100],
        warehouse=warehouse,
        kind=cls.channel_kind,
        currency=str(settings.ERP_BASE_CURRENCY),
        user=user,
    )


_UNSET: Any = object()


@transaction.atomic
def connection_update(
    *,
    connection: Connection,
    name: str | None = None,
    settings: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
    api_version: str | None = None,
    warehouse: Warehouse | None = _UNSET,
    sales_channel: SalesChannel | None = _UNSET,
    user: Any = None,
) -> Connection:
    """Change what is given, leave the rest.

    ``settings`` is partial: the keys given replace the stored ones and the whole is
    validated again. ``secrets``: only the keys given with a non-empty value replace
    the stored ones (empty means keep). ``warehouse`` / ``sales_channel`` may be set
    to None to unmap. New secrets for a connection that needs re-authorisation make it
    active again.
    """
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    cls = connector_class(connection.connector)
    errors: dict[str, list[str]] = {}
    changed: list[str] = []
    if name is not None and name.strip() != connection.name:
        try:
            connection.name = _clean_name(name, exclude_pk=connection.pk)
            changed.append("name")
        except ValidationFailed as exc:
            errors.update(exc.field_errors)
    new_settings = dict(connection.settings)
    if settings is not None:
        if not isinstance(settings, Mapping):
            errors["settings"] = ["Must be an object."]
        else:
            new_settings.update(settings)
            try:
                new_settings = validate_settings(cls, new_settings)
            except ValidationFailed as exc:
                errors.update(exc.field_errors)
    if secrets is not None:
        if not isinstance(secrets, Mapping):
            errors["secrets"] = ["Must be an object."]
        else:
            given = {k: v for k, v in secrets.items() if v is not None and v != ""}
            if given:
                merged = {**connection.get_secrets(), **given}
                try:
                    connection.set_secrets(validate_secrets(cls, merged))
                    changed.append("secrets_encrypted")
                    if connection.status == ConnectionStatus.NEEDS_REAUTH:
                        connection.status = ConnectionStatus.ACTIVE
                        changed.append("status")
                except ValidationFailed as exc:
                    errors.update(exc.field_errors)
    if not errors and (settings is not None or api_version is not None):
        try:
            version = _api_version(
                cls, api_version if api_version is not None else connection.api_version, new_settings
            )
        except ValidationFailed as exc:
            errors.update(exc.field_errors)
        else:
            if new_settings != connection.settings:
                connection.settings = new_settings
                changed.append("settings")
            if version != connection.api_version:
                connection.api_version = version
                changed.append("api_version")
    if errors:
        summary = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
        raise ValidationFailed(f"Invalid connection: {summary}", field_errors=errors)
    if warehouse is not _UNSET and warehouse != connection.warehouse:
        connection.warehouse = warehouse
        changed.append("warehouse")
    if sales_channel is not _UNSET and sales_channel != connection.sales_channel:
        connection.sales_channel = sales_channel
        changed.append("sales_channel")
    if changed:
        connection.updated_by = user
        connection.save(update_fields=[*changed, "updated_by", "updated_at"])
    return connection


def _set_status(connection: Connection, status: ConnectionStatus, user: Any) -> Connection:
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    if connection.status != status:
        connection.status = status
        connection.updated_by = user
        connection.save(update_fields=["status", "updated_by", "updated_at"])
    return connection


@transaction.atomic
def connection_pause(*, connection: Connection, user: Any = None) -> Connection:
    """Stop syncing: no pushes, no polls; webhooks are still stored and wait. Idempotent."""
    return _set_status(connection, ConnectionStatus.PAUSED, user)


@transaction.atomic
def connection_resume(*, connection: Connection, user: Any = None) -> Connection:
    """Sync again (a failing or re-authorised connection is also set active). Idempotent."""
    connection = _set_status(connection, ConnectionStatus.ACTIVE, user)
    return connection


def work_in_flight(connection: Connection) -> dict[str, int]:
    """What deleting the connection would drop: deliveries and inbound events not finished."""
    return {
        "deliveries": Delivery.objects.filter(connection=connection, status__in=PENDING_DELIVERY).count(),
        "inbound_events": InboundEvent.objects.filter(
            connection=connection, status__in=PENDING_INBOUND
        ).count(),
    }


@transaction.atomic
def connection_delete(*, connection: Connection, user: Any = None, force: bool = False) -> None:
    """Delete the connection with everything it holds (refs, events, deliveries, runs, drifts).

    Refused (ConnectionInUse, 409) while work is in flight, unless ``force``.
    """
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    if not force:
        pending = work_in_flight(connection)
        if any(pending.values()):
            message = (
                f"{connection.name} still has {pending['deliveries']} delivery(ies) pending and "
                f"{pending['inbound_events']} inbound event(s) not processed; pause it and let them "
                "finish, or delete with force to drop them."
            )
            raise ConnectionInUse(message, in_flight=pending)
    connection.delete()


# --- SKU mappings ---------------------------------------------------------------------------------


def _product_type() -> ContentType:
    return ContentType.objects.get_for_model(Product)


def sku_mappings(connection: Connection) -> Any:
    return ExternalRef.objects.filter(connection=connection, object_type=SKU)


@transaction.atomic
def sku_mapping_create(
    *, connection: Connection, sku: str, product: Product, user: Any = None
) -> ExternalRef:
    """Map the tool's SKU to a product for this connection. A SKU maps to one product."""
    sku = (sku or "").strip()
    if not sku:
        raise ValidationFailed("A SKU is required.", field_errors={"sku": ["This field is required."]})
    if len(sku) > ExternalRef._meta.get_field("external_id").max_length:  # type: ignore[operator]
        raise ValidationFailed("The SKU is too long.", field_errors={"sku": ["At most 255 characters."]})
    existing = sku_mappings(connection).filter(external_id=sku).first()
    if existing is not None:
        current = Product.objects.filter(pk=existing.object_id).values_list("sku", flat=True).first()
        message = (
            f"SKU {sku!r} is already mapped to {current or 'a deleted product'}; remove that mapping first."
        )
        raise ValidationFailed(message, field_errors={"sku": [message]})
    try:
        with transaction.atomic():
            return ExternalRef.objects.create(
                connection=connection,
                object_type=SKU,
                external_id=sku,
                content_type=_product_type(),
                object_id=product.pk,
                synced_at=timezone.now(),
            )
    except IntegrityError:
        message = f"SKU {sku!r} was mapped by someone else just now."
        raise ValidationFailed(message, field_errors={"sku": [message]}) from None


@transaction.atomic
def sku_mapping_delete(*, ref: ExternalRef, user: Any = None) -> None:
    if ref.object_type != SKU:
        raise NotFound(f"External ref {ref.pk} is not a SKU mapping.")
    ExternalRef.objects.filter(pk=ref.pk).delete()
