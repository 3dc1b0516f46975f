"""The fake HubSpot's batch endpoints, search and merge, for contacts, companies and deals.

* ``POST /crm/v3/objects/{type}/batch/upsert`` ``{"inputs": [{"idProperty", "id", "properties",
  "objectWriteTraceId"?}]}`` (contacts_batch_upsert_request.json): at most 100 inputs (more: 400);
  ``idProperty`` must be a unique property (``email``, ``erp_customer_code``, ``erp_order_number``,
  ...; else 400); the same id twice in one batch: 400. Each input is created or updated on its own:
  200 ``{"status": "COMPLETE", "results": [<object> + "new" + "objectWriteTraceId"], "startedAt",
  "completedAt"}`` (contacts_batch_upsert_response.json), or 207 with ``numErrors`` and one error
  per refused input naming it in ``context.objectWriteTraceId`` (..._207_with_errors.json: an
  invalid email words it exactly so); the others are done.
* ``batch/read`` ``{"inputs": [{"id"}], "properties", "propertiesWithHistory", "idProperty"?}``
  (at most 50 inputs with ``propertiesWithHistory``, as HubSpot documents): the ones not found
  are one OBJECT_NOT_FOUND error of a 207, by ``context.ids``.
* ``batch/create`` (all or nothing, 201), ``batch/update`` (per input, like upsert, by id or
  ``idProperty``), ``batch/archive`` (204).
* ``POST .../search`` (``fake_search``), ``POST .../merge`` ``{"primaryObjectId", "objectIdToMerge"}``.

Refusal texts the samples do not show are [inferred]; "Duplicate IDs found in batch input" and
"Unable to perform update/upsert by non-unique ... property" are HubSpot's as reported by users.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.hubspot.fake_data import (
    BATCH_LIMIT,
    HISTORY_BATCH_LIMIT,
    LABEL,
    OBJECT_TYPES,
    PROPERTIES,
    SINGULAR,
    error_body,
    invalid_values,
    stamp,
)
from integrations.hubspot.fake_objects import CrmObjects, Record, Source
from integrations.hubspot.fake_search import SearchRefused, search
from integrations.hubspot.fake_values import as_string, normalized, problems

ApiAnswer = tuple[int, Any]


def refused(message: str, **extra: Any) -> ApiAnswer:
    return 400, error_body("VALIDATION_ERROR", message, **extra)


def not_found(object_type: str, object_id: str) -> ApiAnswer:
    return 404, error_body("OBJECT_NOT_FOUND", "resource not found", context={"id": [object_id]})


def strings(properties: Any) -> dict[str, str | None]:
    """A body's ``properties`` with every value as the string HubSpot keeps."""
    return (
        {str(k): as_string(v) for k, v in (properties or {}).items()}
        if isinstance(properties, Mapping)
        else {}
    )


class BatchApi(CrmObjects):
    """Batch writes and reads, search and merge (see the module doc)."""

    def conflict_message(self, object_type: str, existing: Record) -> str:
        """error_409_conflict.json's words, for any type."""
        return f"{SINGULAR[object_type].capitalize()} already exists. Existing ID: {existing.id}"

    def write_problem(
        self, object_type: str, values: Mapping[str, str | None], record: Record | None
    ) -> tuple[int, dict[str, Any]] | None:
        """Why a write of ``values`` is refused (400 or 409, and HubSpot's body), or None."""
        found = problems(object_type, values, current=record.values if record else None)
        if found:
            return 400, error_body("VALIDATION_ERROR", invalid_values(found))
        clash = self.conflict(object_type, values, record)
        if clash is not None:
            return 409, error_body("CONFLICT", self.conflict_message(object_type, clash[1]))
        return None

    def batch(self, object_type: str, operation: str, body: Any, source: Source) -> ApiAnswer:
        inputs = body.get("inputs") if isinstance(body, Mapping) else None
        if not isinstance(inputs, list):
            return refused("Invalid input JSON: inputs must be a list.")
        if len(inputs) > BATCH_LIMIT:
            return refused(f"Batch input size {len(inputs)} exceeds the limit of {BATCH_LIMIT} inputs.")
        started = stamp(self.clock())
        if operation == "read" and body.get("propertiesWithHistory") and len(inputs) > HISTORY_BATCH_LIMIT:
            return refused(
                f"Batch input size {len(inputs)} exceeds the limit of {HISTORY_BATCH_LIMIT} inputs "
                "when propertiesWithHistory is requested."
            )
        if operation == "read":
            return self._read(object_type, body, inputs, started)
        if operation == "create":
            return self._create_all(object_type, inputs, source, started)
        if operation == "archive":
            for item in inputs:
                record = self.find(object_type, str(item.get("id", "")))
                if record is not None:
                    self.archive(record, source)
            return 204, None
        if operation in ("upsert", "update"):
            return self._write_each(object_type, operation, inputs, source, started)
        return 404, error_body("OBJECT_NOT_FOUND", f"Unknown batch operation {operation!r}.")

    def _write_each(
        self, object_type: str, operation: str, inputs: list[Any], source: Source, started: str
    ) -> ApiAnswer:
        ids: list[str] = []
        for item in inputs:
            id_property = item.get("idProperty") or ("hs_object_id" if operation == "update" else None)
            definition = PROPERTIES[object_type].get(id_property or "")
            if id_property != "hs_object_id" and (definition is None or not definition.unique):
                return refused(
                    f"Unable to perform update/upsert by non-unique {OBJECT_TYPES[object_type]} property: "
                    f"{id_property}"
                )
            ids.append(normalized(object_type, str(id_property), str(item.get("id", ""))) or "")
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            return refused(
                f"Duplicate IDs found in batch input: [{', '.join(repeated)}]. IDs must be unique",
                context={"ids": repeated},
            )
        results, errors = [], []
        for item in inputs:
            trace = item.get("objectWriteTraceId")
            id_property = item.get("idProperty") or "hs_object_id"
            values = strings(item.get("properties"))
            record = self.find(object_type, str(item.get("id", "")), id_property=id_property)
            if id_property != "hs_object_id":
                values = {**values, id_property: str(item.get("id", ""))}
            missing = record is None and operation == "update"
            trouble = not_found(object_type, item["id"]) if missing else None
            trouble = trouble or self.write_problem(object_type, values, record)
            if trouble is not None:
                context = {"objectWriteTraceId": [trace]} if trace else {"ids": [str(item.get("id", ""))]}
                errors.append({**trouble[1], "context": context, "errors": []})
                continue
            new = record is None
            record = self.create(object_type, values, source) if record is None else record
            if not new:
                self.update(record, values, source)
            result = (
                {**self.render(record, list(values)), "new": new}
                if operation == "upsert"
                else self.render(record, list(values))
            )
            results.append({**result, **({"objectWriteTraceId": trace} if trace else {})})
        answer: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if errors:
            for error in errors:
                error.pop("correlationId", None)
            answer.update(numErrors=len(errors), errors=errors)
        answer.update(startedAt=started, completedAt=stamp(self.clock()))
        return (207 if errors else 200), answer

    def _create_all(self, object_type: str, inputs: list[Any], source: Source, started: str) -> ApiAnswer:
        """batch/create: every input is checked first; one refused refuses the batch."""
        staged = []
        for item in inputs:
            values = strings(item.get("properties"))
            trouble = self.write_problem(object_type, values, None)
            if trouble is not None:
                return trouble
            staged.append((values, item))
        results = []
        for values, item in staged:
            record = self.create(object_type, values, source)
            result = self.render(record, list(values))
            if item.get("objectWriteTraceId"):
                result["objectWriteTraceId"] = item["objectWriteTraceId"]
            results.append(result)
        return 201, {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": stamp(self.clock()),
        }

    def _read(self, object_type: str, body: Mapping[str, Any], inputs: list[Any], started: str) -> ApiAnswer:
        id_property = body.get("idProperty")
        properties = body.get("properties") or None
        history = body.get("propertiesWithHistory") or ()
        results, missing = [], []
        for item in inputs:
            wanted = str(item.get("id", ""))
            record = self.find(
                object_type, wanted, id_property=id_property, archived=bool(body.get("archived"))
            )
            if record is None:
                missing.append(wanted)
            else:
                results.append(self.render(record, properties, history=history))
        answer: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if missing:
            message = (
                f"Could not get some {LABEL[object_type]} objects, they may be deleted or not exist. "
                "Check that ids are valid."
            )
            answer.update(
                numErrors=1,
                errors=[
                    {
                        "status": "error",
                        "category": "OBJECT_NOT_FOUND",
                        "message": message,
                        "context": {"ids": missing},
                        "errors": [],
                    }
                ],
            )
        answer.update(startedAt=started, completedAt=stamp(self.clock()))
        return (207 if missing else 200), answer

    def search_objects(self, object_type: str, body: Any) -> ApiAnswer:
        if not isinstance(body, Mapping):
            return refused("Invalid input JSON.")
        try:
            page, total, after = search(self.active(object_type), object_type, body)
        except SearchRefused as refusal:
            return refused(str(refusal))
        answer: dict[str, Any] = {
            "total": total,
            "results": [self.render(r, body.get("properties") or None) for r in page],
        }
        if after is not None:
            answer["paging"] = {"next": {"after": after}}
        return 200, answer

    def merge_objects(self, object_type: str, body: Any, source: Source) -> ApiAnswer:
        if (
            not isinstance(body, Mapping)
            or not body.get("primaryObjectId")
            or not body.get("objectIdToMerge")
        ):
            return refused("Invalid input JSON: primaryObjectId and objectIdToMerge are required.")
        primary = self.find(object_type, str(body["primaryObjectId"]))
        merged = self.find(object_type, str(body["objectIdToMerge"]))
        if primary is None:
            return not_found(object_type, str(body["primaryObjectId"]))
        if merged is None:
            return not_found(object_type, str(body["objectIdToMerge"]))
        if primary is merged:
            return refused(f"Cannot merge {SINGULAR[object_type]} {primary.id} with itself.")
        return 200, self.render(self.merge(primary, merged, source))
