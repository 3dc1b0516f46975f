"""What every outbound resolver shares: reading the tool's ids of our records, and remembering what
the tool took (its id and version) once a push landed.

A record pushed to a tool has one ExternalRef(connection, object type, the tool's id) pointing at
it; ``pushed_hash`` is the content hash of what we last sent (so an unchanged record is not sent
again) and ``external_version`` the tool's version of it (QuickBooks' SyncToken), sent back with the
next update.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from integrations.canonical import content_hash
from integrations.contract import PushResult
from integrations.models import Connection, ExternalRef


def ref_of(connection: Connection, object_type: str, obj: models.Model) -> ExternalRef | None:
    """The ExternalRef of one of our records in the connection's tool (None: not there yet)."""
    return (
        ExternalRef.objects.filter(
            connection=connection,
            object_type=object_type,
            content_type=ContentType.objects.get_for_model(type(obj)),
            object_id=obj.pk,
        )
        .order_by("pk")
        .first()
    )


def refs_of(
    connection: Connection, object_type: str, model: type[models.Model], ids: Iterable[int]
) -> dict[int, ExternalRef]:
    """Our ids -> their ExternalRefs in the connection's tool, in one query."""
    found: dict[int, ExternalRef] = {}
    for ref in ExternalRef.objects.filter(
        connection=connection,
        object_type=object_type,
        content_type=ContentType.objects.get_for_model(model),
        object_id__in=list(ids),
    ).order_by("-pk"):
        found[ref.object_id] = ref
    return found


def digest(item: Any) -> str:
    """The content hash of an outbound item, leaving out what changes without our doing (the
    tool's id and version), so the same content is recognised as already pushed."""
    fields = {f.name for f in dataclasses.fields(item)}
    ignored = {"external_id", "version"} & fields
    return content_hash(dataclasses.replace(item, **dict.fromkeys(ignored, "")))


def unchanged(ref: ExternalRef | None, item: Any) -> bool:
    return ref is not None and ref.pushed_hash == digest(item)


def remembering(
    connection: Connection,
    object_type: str,
    obj: models.Model,
    item: Any,
    *,
    extra: dict[str, Any] | None = None,
    then: Callable[[PushResult], None] | None = None,
) -> Callable[[PushResult], None]:
    """What the hub records once the tool took ``item`` for ``obj``: the tool's id (kept if the
    answer names none), its version and the hash of what was sent."""
    sent = digest(item)
    content_type = ContentType.objects.get_for_model(type(obj))

    def remember(result: PushResult) -> None:
        mine = (
            ExternalRef.objects.select_for_update()
            .filter(
                connection=connection, object_type=object_type, content_type=content_type, object_id=obj.pk
            )
            .order_by("pk")
            .first()
        )
        external_id = result.external_id or (mine.external_id if mine is not None else "")
        if external_id:
            fields = {
                "pushed_hash": sent,
                "synced_at": timezone.now(),
                "external_version": result.version or (mine.external_version if mine is not None else ""),
                "extra": {**(mine.extra if mine is not None else {}), **(extra or {}), **result.extra},
            }
            if mine is not None and mine.external_id != external_id:
                mine.delete()  # the tool made a new one (ours was deleted there): follow its id
                mine = None
            if mine is None:
                ExternalRef.objects.update_or_create(
                    connection=connection,
                    object_type=object_type,
                    external_id=external_id,
                    defaults={"content_type": content_type, "object_id": obj.pk, **fields},
                )
            else:
                for name, value in fields.items():
                    setattr(mine, name, value)
                mine.save(update_fields=list(fields))
        if then is not None:
            then(result)

    return remember
