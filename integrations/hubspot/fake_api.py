"""The fake HubSpot's API endpoints (``https://api.hubapi.com``), after the token and the limits.

* ``/crm/v3/objects/{contacts|companies|deals}``: ``GET`` a page (``limit`` at most 100, ``after``
  the cursor of contacts_list_page_response.json, ``properties``, ``archived``), ``POST`` a create
  ``{"properties", "associations"?}`` (contact_create_request.json, deal_create_request.json:
  201, the object); ``/{id}``: ``GET`` (``properties``, ``propertiesWithHistory``,
  ``associations``, ``idProperty``, ``archived``), ``PATCH`` ``{"properties"}``, ``DELETE`` (204,
  archived). A contact whose email another has: 409 CONFLICT "Contact already exists. Existing ID:
  N" (error_409_conflict.json); the same for any unique property. A value the portal refuses: 400
  VALIDATION_ERROR "Property values were not valid: [...]" (error_400_validation.json). An object
  that is not there: 404 OBJECT_NOT_FOUND. Batches, search and merge: ``fake_batch``.
* Associations v4 (``fake_associations``). A create body's ``associations`` take the
  HUBSPOT_DEFINED type ids: contact→company 1 (primary) or 279, deal→contact 3, deal→company 5
  (primary) or 341.
* ``GET /crm/v3/pipelines/deals`` (and ``/{pipelineId}``), ``GET /crm/v3/properties/{type}``,
  ``GET /account-info/v3/details``.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Mapping
from typing import Any

from integrations.fakes.base import Incoming
from integrations.hubspot.fake_associations import AssociationsApi
from integrations.hubspot.fake_batch import ApiAnswer, not_found, refused, strings
from integrations.hubspot.fake_data import (
    ASSOCIATION_TYPES,
    CURRENCY,
    OBJECT_TYPES,
    PAGE_LIMIT,
    PIPELINES,
    PROPERTIES,
    TIME_ZONE,
    TYPE_ALIASES,
)
from integrations.hubspot.fake_objects import Source


def listed(request: Incoming, name: str) -> list[str] | None:
    """A query parameter given as ``a,b`` or repeated (``name=a&name=b``); None when absent."""
    values = request.url.params.get_list(name)
    if not values:
        return None
    return [part for value in values for part in value.split(",") if part]


def flag(request: Incoming, name: str) -> bool:
    return request.url.params.get(name, "").lower() == "true"


class CrmApi(AssociationsApi):
    """Routes a request to its endpoint; see the module doc."""

    portal_id: int

    def api(self, request: Incoming, parts: list[str], source: Source) -> ApiAnswer:
        body = request.json()
        method = request.method
        if parts == ["account-info", "v3", "details"] and method == "GET":
            return 200, self.account_details()
        if parts[:3] == ["crm", "v3", "pipelines"] and method == "GET" and len(parts) in (4, 5):
            return self.pipelines(parts[3], parts[4] if len(parts) == 5 else None)
        if parts[:3] == ["crm", "v3", "properties"] and len(parts) == 4 and method == "GET":
            object_type = TYPE_ALIASES.get(parts[3])
            return (200, self.property_list(object_type)) if object_type else not_found("", parts[3])
        if parts[:3] == ["crm", "v4", "objects"] and len(parts) >= 7 and parts[5] == "associations":
            return self.associations(request, parts[3:], body)
        if parts[:3] == ["crm", "v4", "associations"] and len(parts) >= 7 and method == "POST":
            return self.association_batch(parts[3:], body)
        if parts[:3] != ["crm", "v3", "objects"] or len(parts) < 4 or parts[3] not in OBJECT_TYPES:
            return 404, None
        object_type, rest = parts[3], parts[4:]
        if not rest:
            if method == "GET":
                return self.list_page(request, object_type)
            if method == "POST":
                return self.create_one(object_type, body, source)
        elif rest[0] == "batch" and len(rest) == 2 and method == "POST":
            return self.batch(object_type, rest[1], body, source)
        elif rest == ["search"] and method == "POST":
            return self.search_objects(object_type, body)
        elif rest == ["merge"] and method == "POST":
            return self.merge_objects(object_type, body, source)
        elif len(rest) == 1:
            return self.one(request, object_type, rest[0], body, source)
        return 405, None

    # --- one object -----------------------------------------------------------------------------------

    def one(
        self, request: Incoming, object_type: str, object_id: str, body: Any, source: Source
    ) -> ApiAnswer:
        archived = flag(request, "archived")
        record = self.find(
            object_type, object_id, id_property=request.url.params.get("idProperty"), archived=archived
        )
        if record is None:
            return not_found(object_type, object_id)
        if request.method == "GET":
            return 200, self.render(
                record,
                listed(request, "properties"),
                history=listed(request, "propertiesWithHistory") or (),
                associations=listed(request, "associations") or (),
            )
        if request.method == "PATCH":
            values = strings(body.get("properties") if isinstance(body, Mapping) else None)
            trouble = self.write_problem(object_type, values, record)
            if trouble is not None:
                return trouble
            self.update(record, values, source)
            return 200, self.render(record, list(values))
        if request.method == "DELETE":
            self.archive(record, source)
            return 204, None
        return 405, None

    def create_one(self, object_type: str, body: Any, source: Source) -> ApiAnswer:
        if not isinstance(body, Mapping):
            return refused("Invalid input JSON: the body must be an object with properties.")
        values = strings(body.get("properties"))
        trouble = self.write_problem(object_type, values, None)
        if trouble is not None:
            return trouble
        links = []
        for association in body.get("associations") or ():
            to_id = str((association.get("to") or {}).get("id", ""))
            for spec in association.get("types") or ():
                type_id = int(spec.get("associationTypeId", 0))
                to_type = next(
                    (k[1] for k in ASSOCIATION_TYPES if k[0] == object_type and k[2] == type_id), None
                )
                if to_type is None or self.find(to_type, to_id) is None:
                    return refused(
                        f"One or more associations are invalid: {object_type} to {to_id} with type {type_id}."
                    )
                links.append((to_type, self.find(to_type, to_id), type_id))
        record = self.create(object_type, values, source)
        for to_type, target, type_id in links:
            assert target is not None
            self.associate(object_type, record.id, to_type, target.id, type_id)
        return 201, self.render(record, list(values))

    def list_page(self, request: Incoming, object_type: str) -> ApiAnswer:
        try:
            limit = int(request.url.params.get("limit", "10"))
            after = int(request.url.params.get("after", "0") or 0)
        except ValueError:
            return refused("limit and after must be numbers.")
        if not 0 < limit <= PAGE_LIMIT:
            return refused(f"limit must be between 1 and {PAGE_LIMIT}.")
        records = [
            r for r in self.active(object_type, archived=flag(request, "archived")) if int(r.id) >= after
        ]
        page, more = records[:limit], len(records) > limit
        answer: dict[str, Any] = {
            "results": [
                self.render(
                    r,
                    listed(request, "properties"),
                    history=listed(request, "propertiesWithHistory") or (),
                    associations=listed(request, "associations") or (),
                )
                for r in page
            ]
        }
        if more:
            cursor = str(int(page[-1].id) + 1)
            origin = f"{request.url.scheme}://{request.url.netloc.decode()}"
            link = f"{origin}/crm/v3/objects/{object_type}?after={cursor}&limit={limit}"
            answer["paging"] = {"next": {"after": cursor, "link": link}}
        return 200, answer

    # --- the portal ------------------------------------------------------------------------------------

    def account_details(self) -> dict[str, Any]:
        offset = self.clock().astimezone(zoneinfo.ZoneInfo(TIME_ZONE)).utcoffset() or datetime.timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        return {
            "portalId": self.portal_id,
            "accountType": "STANDARD",
            "timeZone": TIME_ZONE,
            "companyCurrency": CURRENCY,
            "additionalCurrencies": [],
            "utcOffset": f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}",
            "utcOffsetMilliseconds": minutes * 60000,
            "uiDomain": "app.hubspot.com",
            "dataHostingLocation": "na1",
        }

    def pipelines(self, object_type: str, pipeline_id: str | None) -> ApiAnswer:
        if TYPE_ALIASES.get(object_type) != "deals":
            return not_found(object_type, pipeline_id or "")
        epoch = "2026-01-05T09:00:00.000Z"  # when the portal was set up
        shown = []
        for order, (pid, (label, stages)) in enumerate(PIPELINES.items()):
            shown.append(
                {
                    "id": pid,
                    "label": label,
                    "displayOrder": order,
                    "archived": False,
                    "createdAt": epoch,
                    "updatedAt": epoch,
                    "stages": [
                        {
                            "id": sid,
                            "label": slabel,
                            "displayOrder": i,
                            "metadata": {
                                "isClosed": "true" if closed else "false",
                                "probability": probability,
                            },
                            "archived": False,
                            "createdAt": epoch,
                            "updatedAt": epoch,
                            "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
                        }
                        for i, (sid, slabel, probability, closed) in enumerate(stages)
                    ],
                }
            )
        if pipeline_id is None:
            return 200, {"results": shown}
        found = next((p for p in shown if p["id"] == pipeline_id), None)
        return (200, found) if found else not_found("pipelines", pipeline_id)

    def property_list(self, object_type: str) -> dict[str, Any]:
        field_types = {
            "number": "number",
            "date": "date",
            "datetime": "date",
            "enumeration": "select",
            "bool": "booleancheckbox",
        }
        return {
            "results": [
                {
                    "name": p.name,
                    "label": p.name.replace("_", " ").capitalize(),
                    "type": p.type,
                    "fieldType": field_types.get(p.type, "text"),
                    "hasUniqueValue": p.unique,
                    "options": [{"label": o, "value": o} for o in p.options],
                    "modificationMetadata": {"readOnlyValue": p.read_only, "archivable": not p.read_only},
                }
                for p in PROPERTIES[object_type].values()
            ]
        }
