"""The fake HubSpot's associations API (v4), one pair at a time and in batches.

* ``PUT /crm/v4/objects/{from}/{id}/associations/default/{to}/{toId}``: the pair's default type
  (contact→company 279, deal→contact 3, deal→company 341, ...); 200 with both directions.
* ``PUT /crm/v4/objects/{from}/{id}/associations/{to}/{toId}`` ``[{"associationCategory",
  "associationTypeId"}]``: those types (a primary, 1 or 5, replaces the object's previous primary
  company); 201 ``{"fromObjectTypeId", "fromObjectId", "toObjectTypeId", "toObjectId", "labels"}``.
  ``DELETE`` the same path: every type between the two (204).
* ``GET /crm/v4/objects/{from}/{id}/associations/{to}``: ``{"results": [{"toObjectId",
  "associationTypes": [{"category", "typeId", "label"}]}]}``.
* ``POST /crm/v4/associations/{from}/{to}/batch/associate/default`` ``{"inputs": [{"from": {"id"},
  "to": {"id"}}]}``, ``.../batch/create`` (inputs with ``types``), ``.../batch/read``
  ``{"inputs": [{"id"}]}`` and ``.../batch/archive`` ``{"inputs": [{"from": {"id"}, "to": [{"id"}]}]}``:
  at most 100 inputs (1,000 for read); a pair naming an object that is not there is one error of a
  207 (VALIDATION_ERROR, [inferred] words), the others are made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.fakes.base import Incoming
from integrations.hubspot.fake_batch import ApiAnswer, BatchApi, not_found, refused
from integrations.hubspot.fake_data import (
    ASSOCIATION_TYPES,
    BATCH_LIMIT,
    DEFAULT_TYPE,
    INVERSE,
    OBJECT_TYPES,
    SINGULAR,
    TYPE_ALIASES,
    stamp,
)
from integrations.hubspot.fake_objects import Record

READ_LIMIT = 1000  # inputs of an associations batch read (HubSpot's changelog, 2024-09-23)


def spec(kind: int) -> dict[str, Any]:
    return {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": kind}


class AssociationsApi(BatchApi):
    """See the module doc."""

    def associations(self, request: Incoming, parts: list[str], body: Any) -> ApiAnswer:
        """``/crm/v4/objects/...``: ``parts`` are from, id, "associations", ["default",] to[, toId]."""
        from_type = TYPE_ALIASES.get(parts[0])
        default = parts[3] == "default"
        tail = parts[4:] if default else parts[3:]
        to_type = TYPE_ALIASES.get(tail[0]) if tail else None
        if from_type is None or to_type is None or len(tail) > 2:
            return 404, None
        origin = self.find(from_type, parts[1])
        if origin is None:
            return not_found(from_type, parts[1])
        if len(tail) == 1:
            if request.method != "GET":
                return 405, None
            return 200, {"results": self._linked(origin, to_type)}
        target = self.find(to_type, tail[1])
        if target is None:
            return not_found(to_type, tail[1])
        if request.method == "DELETE" and not default:
            self.dissociate(from_type, origin.id, to_type, target.id)
            return 204, None
        if request.method != "PUT":
            return 405, None
        if default:
            kind = DEFAULT_TYPE.get((from_type, to_type))
            if kind is None:
                return refused(f"{from_type} cannot be associated with {to_type}.")
            started = stamp(self.clock())
            self.associate(from_type, origin.id, to_type, target.id, kind)
            return 200, self._complete(self._both_ways(origin, target, kind), started)
        kinds = [int(s.get("associationTypeId", 0)) for s in body or () if isinstance(s, Mapping)]
        if not kinds or any((from_type, to_type, k) not in ASSOCIATION_TYPES for k in kinds):
            return refused(f"Invalid association types {kinds} from {from_type} to {to_type}.")
        return 201, self._labelled(origin, target, kinds)

    def association_batch(self, parts: list[str], body: Any) -> ApiAnswer:
        """``/crm/v4/associations/{from}/{to}/batch/{operation}[/default]``."""
        from_type, to_type = TYPE_ALIASES.get(parts[0]), TYPE_ALIASES.get(parts[1])
        operation = "/".join(parts[3:])
        if from_type is None or to_type is None or parts[2] != "batch":
            return 404, None
        inputs = body.get("inputs") if isinstance(body, Mapping) else None
        if not isinstance(inputs, list):
            return refused("Invalid input JSON: inputs must be a list.")
        limit = READ_LIMIT if operation == "read" else BATCH_LIMIT
        if len(inputs) > limit:
            return refused(f"Batch input size {len(inputs)} exceeds the limit of {limit} inputs.")
        started = stamp(self.clock())
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for item in inputs:
            origin = self.find(from_type, str((item.get("from") or {}).get("id", item.get("id", ""))))
            if origin is None:
                errors.append(self._missing(from_type, item))
                continue
            if operation == "read":
                results.append({"from": {"id": origin.id}, "to": self._linked(origin, to_type)})
                continue
            targets = item.get("to") if operation == "archive" else [item.get("to") or {}]
            for to in targets or ():
                target = self.find(to_type, str(to.get("id", "")))
                if target is None:
                    errors.append(self._missing(to_type, {"id": to.get("id")}))
                elif operation == "archive":
                    self.dissociate(from_type, origin.id, to_type, target.id)
                elif operation == "associate/default":
                    kind = DEFAULT_TYPE[(from_type, to_type)]
                    self.associate(from_type, origin.id, to_type, target.id, kind)
                    results.extend(self._both_ways(origin, target, kind))
                elif operation == "create":
                    kinds = [int(t.get("associationTypeId", 0)) for t in item.get("types") or ()]
                    if not kinds or any((from_type, to_type, k) not in ASSOCIATION_TYPES for k in kinds):
                        errors.append(self._invalid(from_type, to_type, kinds))
                    else:
                        results.append(self._labelled(origin, target, kinds))
                else:
                    return 404, None
        if operation == "archive":
            return 204, None
        answer = self._complete(results, started)
        if errors:
            answer = {**answer, "numErrors": len(errors), "errors": errors}
        return (207 if errors else (201 if operation == "create" else 200)), answer

    # --- shapes ----------------------------------------------------------------------------------------

    def _linked(self, origin: Record, to_type: str) -> list[dict[str, Any]]:
        from_type = origin.object_type
        return [
            {
                "toObjectId": int(to_id),
                "associationTypes": [
                    {
                        "category": "HUBSPOT_DEFINED",
                        "typeId": kind,
                        "label": ASSOCIATION_TYPES[(from_type, to_type, kind)][1],
                    }
                    for kind in kinds
                ],
            }
            for to_id, kinds in self.associated(from_type, origin.id, to_type).items()
        ]

    def _labelled(self, origin: Record, target: Record, kinds: list[int]) -> dict[str, Any]:
        from_type, to_type = origin.object_type, target.object_type
        for kind in kinds:
            self.associate(from_type, origin.id, to_type, target.id, kind)
        now_linked = self.associated(from_type, origin.id, to_type).get(target.id, [])
        labels = [ASSOCIATION_TYPES[(from_type, to_type, k)][1] for k in now_linked]
        return {
            "fromObjectTypeId": OBJECT_TYPES[from_type],
            "fromObjectId": int(origin.id),
            "toObjectTypeId": OBJECT_TYPES[to_type],
            "toObjectId": int(target.id),
            "labels": [label for label in labels if label],
        }

    @staticmethod
    def _both_ways(origin: Record, target: Record, kind: int) -> list[dict[str, Any]]:
        return [
            {"from": {"id": origin.id}, "to": {"id": target.id}, "associationSpec": spec(kind)},
            {"from": {"id": target.id}, "to": {"id": origin.id}, "associationSpec": spec(INVERSE[kind])},
        ]

    def _complete(self, results: list[dict[str, Any]], started: str) -> dict[str, Any]:
        return {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": stamp(self.clock()),
        }

    @staticmethod
    def _missing(object_type: str, item: Mapping[str, Any]) -> dict[str, Any]:
        wanted = str((item.get("from") or {}).get("id", item.get("id", "")))
        return {
            "status": "error",
            "category": "VALIDATION_ERROR",
            "message": f"No {SINGULAR[object_type]} with ID {wanted} exists.",
            "context": {"ids": [wanted]},
            "errors": [],
        }

    @staticmethod
    def _invalid(from_type: str, to_type: str, kinds: list[int]) -> dict[str, Any]:
        return {
            "status": "error",
            "category": "VALIDATION_ERROR",
            "message": f"Invalid association types {kinds} from {from_type} to {to_type}.",
            "errors": [],
        }
