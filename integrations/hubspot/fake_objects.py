"""The fake HubSpot's CRM objects (contacts, companies, deals): every property value kept with its
history, archiving, merges and associations. A mixin of ``FakeHubSpot`` (``fake.py``), called under
its lock; the HTTP side is ``fake_api``.

Each property keeps its versions, newest first, each with the time it was set and who set it
(``Source``): the app's API writes are ``INTEGRATION`` with the app id as ``sourceId``, the sales
rep's edits ``CRM_UI`` with ``userId:<id>``. A read asks for ``propertiesWithHistory`` and gets
``{name: [{"value", "timestamp", "sourceType", "sourceId"}...]}``; a value only gets a new version
when it changes. ``hs_object_id``, ``createdate`` and the last-modified stamp (``lastmodifieddate``
on contacts, ``hs_lastmodifieddate`` elsewhere, as the samples have them) are HubSpot's own.

A merge keeps the primary's id: the merged record's values fill the primary's blanks, its
associations move over, ``hs_merged_object_ids`` grows (``;``-joined) and the merged id answers
every read with the primary (HubSpot's redirect of merged ids). Every change is reported to
``_notify`` (the webhooks mixin), which turns it into the events the app subscribed to.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from integrations.hubspot.fake_data import (
    ASSOCIATION_TYPES,
    DEFAULT_PROPERTIES,
    INVERSE,
    MODIFIED,
    OBJECT_TYPES,
    PROPERTIES,
    SALES_REP_ID,
    TYPE_ALIASES,
    UNLABELED,
    stamp,
)
from integrations.hubspot.fake_values import normalized

KEPT = ("createdate", "hs_object_id")  # with MODIFIED[type]: in every read
PRIMARY_INVERSE = (2, 6)  # company -> contact / deal, primary: the other side's one primary company
FIRST_IDS = {"contacts": 65059681032, "companies": 18342998071, "deals": 21877455234}  # the samples'


@dataclass(frozen=True)
class Source:
    """Who set a value: the app through the API, or a person in HubSpot."""

    type: str  # "INTEGRATION" | "CRM_UI"
    id: str
    user_id: int | None = None

    @classmethod
    def app(cls, app_id: int) -> Source:
        return cls("INTEGRATION", str(app_id))

    @classmethod
    def rep(cls, user_id: int = SALES_REP_ID) -> Source:
        return cls("CRM_UI", f"userId:{user_id}", user_id)


@dataclass(frozen=True)
class Version:
    value: str | None
    at: datetime.datetime
    source: Source

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "value": self.value if self.value is not None else "",
            "timestamp": stamp(self.at),
            "sourceType": self.source.type,
            "sourceId": self.source.id,
        }
        if self.source.user_id is not None:
            body["updatedByUserId"] = self.source.user_id
        return body


@dataclass
class Record:
    """One object: its id, its properties' histories (newest first) and whether it is archived."""

    object_type: str
    id: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    history: dict[str, list[Version]] = field(default_factory=dict)
    archived_at: datetime.datetime | None = None

    def get(self, name: str) -> str | None:
        versions = self.history.get(name)
        return versions[0].value if versions else None

    @property
    def values(self) -> dict[str, str | None]:
        return {name: versions[0].value for name, versions in self.history.items() if versions}


Link = tuple[str, str, str, str, int]  # (from type, from id, to type, to id, association type id)


class CrmObjects:
    """The portal's objects and associations; see the module doc."""

    clock: Callable[[], datetime.datetime]
    _lock: threading.RLock
    app_id: int

    def reset_objects(self) -> None:
        with self._lock:
            self.objects: dict[str, dict[str, Record]] = {t: {} for t in OBJECT_TYPES}
            self.merged: dict[str, dict[str, str]] = {t: {} for t in OBJECT_TYPES}  # merged id -> primary
            self.links: set[Link] = set()
            self._next_ids = dict(FIRST_IDS)
            # a creation is reported value by value too (propertyChange), as HubSpot does
            self.property_events_on_creation: bool = getattr(self, "property_events_on_creation", True)

    def _notify(self, kind: str, record: Record, source: Source, **fields: Any) -> None:
        """A change to report as webhook events (the webhooks mixin says which are subscribed)."""
        raise NotImplementedError(f"{type(self).__name__} must report {kind} events")

    # --- reading ----------------------------------------------------------------------------------

    def find(
        self, object_type: str, object_id: str, *, id_property: str | None = None, archived: bool = False
    ) -> Record | None:
        """An object by id (a merged id answers its primary) or by a unique property's value;
        archived ones only when ``archived``."""
        if id_property and id_property != "hs_object_id":
            return self.find_unique(object_type, id_property, object_id)
        object_id = self.merged[object_type].get(object_id, object_id)
        record = self.objects[object_type].get(object_id)
        if record is None or (record.archived_at is not None) != archived:
            return None
        return record

    def find_unique(self, object_type: str, name: str, value: str) -> Record | None:
        wanted = normalized(object_type, name, value)
        return next((r for r in self.active(object_type) if r.get(name) == wanted and wanted), None)

    def active(self, object_type: str, *, archived: bool = False) -> list[Record]:
        """The objects of a type (archived ones instead, with ``archived``), oldest id first."""
        found = [r for r in self.objects[object_type].values() if (r.archived_at is not None) == archived]
        return sorted(found, key=lambda r: int(r.id))

    def conflict(
        self, object_type: str, values: Mapping[str, str | None], record: Record | None
    ) -> tuple[str, Record] | None:
        """A unique property's value another object has already: (the property, that object)."""
        for name, value in values.items():
            definition = PROPERTIES[object_type].get(name)
            if definition is None or not definition.unique or not value:
                continue
            other = self.find_unique(object_type, name, value)
            if other is not None and other is not record:
                return name, other
        return None

    # --- writing (values checked by the caller: fake_values.problems) --------------------------

    def create(self, object_type: str, values: Mapping[str, str | None], source: Source) -> Record:
        moment = self.clock()
        record_id = str(self._next_ids[object_type])
        self._next_ids[object_type] += 1
        record = Record(object_type, record_id, moment, moment)
        self.objects[object_type][record_id] = record
        own = {"hs_object_id": record_id, "createdate": stamp(moment), MODIFIED[object_type]: stamp(moment)}
        if object_type == "deals" and not values.get("pipeline"):
            own["pipeline"] = "default"
        for name, value in {**own, **values}.items():
            record.history[name] = [Version(normalized(object_type, name, value), moment, source)]
        self._notify("creation", record, source, changeFlag="CREATED")
        for name, value in values.items() if self.property_events_on_creation else ():
            if value not in (None, ""):
                self._notify("propertyChange", record, source, propertyName=name, propertyValue=value)
        return record

    def update(
        self, record: Record, values: Mapping[str, str | None], source: Source
    ) -> dict[str, str | None]:
        """Set ``values``; the ones that changed (each a new version and an event)."""
        moment = self.clock()
        changed: dict[str, str | None] = {}
        for name, raw in values.items():
            value = normalized(record.object_type, name, raw)
            if record.get(name) != value:
                record.history.setdefault(name, []).insert(0, Version(value, moment, source))
                changed[name] = value
        if changed:
            self._touch(record, moment, source)
            for name, value in changed.items():
                self._notify("propertyChange", record, source, propertyName=name, propertyValue=value or "")
        return changed

    def _touch(self, record: Record, moment: datetime.datetime, source: Source) -> None:
        record.updated_at = moment
        record.history.setdefault(MODIFIED[record.object_type], []).insert(
            0, Version(stamp(moment), moment, source)
        )

    def archive(self, record: Record, source: Source) -> None:
        """Archived (HubSpot's delete: the object moves to the recycle bin, its links go)."""
        record.archived_at = self.clock()
        self.links = {link for link in self.links if (link[0], link[1]) != (record.object_type, record.id)}
        self.links = {link for link in self.links if (link[2], link[3]) != (record.object_type, record.id)}
        self._notify("deletion", record, source, changeFlag="DELETED")

    def merge(self, primary: Record, merged: Record, source: Source) -> Record:
        """``merged`` into ``primary``: see the module doc."""
        object_type = primary.object_type
        own = {*KEPT, MODIFIED[object_type], "hs_merged_object_ids", "hs_additional_emails"}
        filled = {
            name: value
            for name, value in merged.values.items()
            if name not in own and value not in (None, "") and primary.get(name) in (None, "")
        }
        earlier = [i for i in (primary.get("hs_merged_object_ids") or "").split(";") if i]
        earlier += [i for i in (merged.get("hs_merged_object_ids") or "").split(";") if i]
        kept: dict[str, str | None] = {**filled, "hs_merged_object_ids": ";".join([*earlier, merged.id])}
        if object_type == "contacts" and merged.get("email") and merged.get("email") != primary.get("email"):
            extra = [e for e in (primary.get("hs_additional_emails") or "").split(";") if e]
            kept["hs_additional_emails"] = ";".join([*extra, merged.get("email") or ""])
        for link in [link for link in self.links if (link[0], link[1]) == (object_type, merged.id)]:
            self.dissociate(object_type, merged.id, link[2], link[3])
            self.associate(object_type, primary.id, link[2], link[3], link[4])
        del self.objects[object_type][merged.id]
        for old, target in list(self.merged[object_type].items()):
            if target == merged.id:
                self.merged[object_type][old] = primary.id
        self.merged[object_type][merged.id] = primary.id
        self.update(primary, kept, source)
        self._notify(
            "merge",
            primary,
            source,
            primaryObjectId=int(primary.id),
            mergedObjectIds=[int(primary.id), int(merged.id)],
            newObjectId=int(primary.id),
            numberOfPropertiesMoved=len(filled),
        )
        return primary

    # --- associations -------------------------------------------------------------------------------

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str, type_id: int) -> list[int]:
        """Link two objects with a type (a primary implies the unlabeled one; the inverse is kept
        too); a new primary replaces the old one. The type ids now between them."""
        if type_id in PRIMARY_INVERSE:  # a company as a contact's or deal's primary: from their side
            self.associate(to_type, to_id, from_type, from_id, INVERSE[type_id])
            return self.associated(from_type, from_id, to_type).get(to_id, [])
        wanted = [type_id, *([UNLABELED[type_id]] if type_id in UNLABELED else [])]
        for kind in wanted:
            if kind in UNLABELED:  # one primary company per contact or deal
                self.links = {
                    link
                    for link in self.links
                    if not (link[:3] == (from_type, from_id, to_type) and link[4] == kind)
                }
                self.links = {
                    link
                    for link in self.links
                    if not (
                        link[2:4] == (from_type, from_id) and link[0] == to_type and link[4] == INVERSE[kind]
                    )
                }
            self.links.add((from_type, from_id, to_type, to_id, kind))
            self.links.add((to_type, to_id, from_type, from_id, INVERSE[kind]))
        return self.associated(from_type, from_id, to_type).get(to_id, [])

    def dissociate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        self.links = {
            link
            for link in self.links
            if link[:4] != (from_type, from_id, to_type, to_id)
            and link[:4] != (to_type, to_id, from_type, from_id)
        }

    def associated(self, from_type: str, from_id: str, to_type: str) -> dict[str, list[int]]:
        """The objects of ``to_type`` linked to one object: their id -> the type ids, in id order."""
        found: dict[str, list[int]] = {}
        for link in sorted(self.links, key=lambda lk: (int(lk[3]), lk[4])):
            if link[:3] == (from_type, from_id, to_type):
                found.setdefault(link[3], []).append(link[4])
        return found

    # --- rendering -----------------------------------------------------------------------------------

    def render(
        self,
        record: Record,
        properties: Iterable[str] | None = None,
        *,
        history: Iterable[str] = (),
        associations: Iterable[str] = (),
    ) -> dict[str, Any]:
        """The object as HubSpot answers it (SimplePublicObject, with ``propertiesWithHistory`` and
        ``associations`` when asked; properties the portal does not define are left out)."""
        object_type = record.object_type
        defined = PROPERTIES[object_type]
        names = [
            n for n in (DEFAULT_PROPERTIES[object_type] if properties is None else properties) if n in defined
        ]
        shown = {name: record.get(name) for name in [*names, *KEPT, MODIFIED[object_type]]}
        body: dict[str, Any] = {
            "id": record.id,
            "properties": dict(sorted(shown.items())),
            "createdAt": stamp(record.created_at),
            "updatedAt": stamp(record.updated_at),
            "archived": record.archived_at is not None,
        }
        if record.archived_at is not None:
            body["archivedAt"] = stamp(record.archived_at)
        wanted = [n for n in history if n in defined]
        if wanted:
            body["propertiesWithHistory"] = {
                n: [v.as_json() for v in record.history.get(n, [])] for n in wanted
            }
        linked: dict[str, Any] = {}
        for name in associations:
            to_type = TYPE_ALIASES.get(name)
            if to_type is None:
                continue
            results = [
                {"id": to_id, "type": ASSOCIATION_TYPES[(object_type, to_type, kind)][0]}
                for to_id, kinds in self.associated(object_type, record.id, to_type).items()
                for kind in kinds
            ]
            if results:
                linked[name] = {"results": results}
        if linked:
            body["associations"] = linked
        return body
