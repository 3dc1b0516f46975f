"""Every index is written on each insert of a row and on each update of its columns: one that no
query needs costs every write and serves none (issue #22). Two rules keep the schema's indexes to
those something reads:

* no btree index is a leading part of another on the same table (a foreign key's own index
  beside a composite index or unique constraint that starts with it; two indexes on one column):
  the longer index serves every lookup the shorter one would;
* a change-history table indexes only what a history is read by: the record's id, the date, its
  user and API key (erp.models.AuditHistory), not simple-history's copies of the record's other
  indexed fields.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

from erp.filters import OutboxEventFilter
from erp.models import OutboxEvent

# (table, index, the index it is a leading part of): btree, same columns in the same order with the
# same operator classes, neither partial nor on expressions.
REDUNDANT_SQL = """
WITH idx AS (
    SELECT i.indexrelid, i.indrelid, c.relname AS tbl, ic.relname AS name, i.indisunique AS is_unique,
           i.indkey::int2[] AS keys, i.indclass::oid[] AS classes, i.indnkeyatts AS nkeys,
           i.indpred IS NOT NULL AS partial, i.indexprs IS NOT NULL AS on_expressions, am.amname AS method
    FROM pg_index AS i
    JOIN pg_class AS c ON c.oid = i.indrelid
    JOIN pg_class AS ic ON ic.oid = i.indexrelid
    JOIN pg_am AS am ON am.oid = ic.relam
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema()
)
SELECT a.tbl, a.name, b.name
FROM idx AS a JOIN idx AS b ON a.indrelid = b.indrelid AND a.indexrelid <> b.indexrelid
WHERE a.method = 'btree' AND b.method = 'btree' AND NOT a.is_unique
  AND NOT (a.partial OR b.partial OR a.on_expressions OR b.on_expressions)
  AND a.nkeys <= b.nkeys
  AND a.keys[0:a.nkeys - 1] = b.keys[0:a.nkeys - 1]
  AND a.classes[0:a.nkeys - 1] = b.classes[0:a.nkeys - 1]
  AND (a.nkeys < b.nkeys OR b.is_unique OR a.indexrelid > b.indexrelid)
ORDER BY 1, 2
"""

HISTORY_INDEXED = {"history_id", "id", "history_date", "history_user", "history_api_key"}


def _our_tables() -> set[str]:
    """The tables of this project's models. Not Django's own apps' or a library's (their schema is
    theirs), nor the through tables Django makes for a many-to-many field: it indexes both foreign
    keys beside their unique pair and has no option to leave one out."""
    root = Path(settings.BASE_DIR).resolve()
    return {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if not model._meta.auto_created
        and root in Path(apps.get_app_config(model._meta.app_label).path).resolve().parents
        and ".venv" not in Path(apps.get_app_config(model._meta.app_label).path).parts
    }


@pytest.mark.postgres
@pytest.mark.django_db
def test_no_index_of_ours_is_a_leading_part_of_another() -> None:
    ours = _our_tables()
    assert {"sales_salesorder", "erp_outboxevent", "integrations_delivery"} <= ours
    with connection.cursor() as cursor:
        cursor.execute(REDUNDANT_SQL)
        redundant = [row for row in cursor.fetchall() if row[0] in ours]
    assert redundant == [], "indexes another one serves (table, index, served by):\n" + "\n".join(
        map(str, redundant)
    )


def test_history_tables_index_only_what_a_history_is_read_by() -> None:
    histories = [
        m for m in apps.get_models() if m.__name__.startswith("Historical") and hasattr(m, "instance_type")
    ]
    assert len(histories) >= 19
    for model in histories:
        indexed = {f.name for f in model._meta.concrete_fields if f.db_index or f.unique}
        assert indexed == HISTORY_INDEXED, model.__name__


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_events_topic_filter_is_served_by_the_topic_index() -> None:
    """``?topic=`` is a prefix in any case: compared lower-cased (topics are lower case) so that
    ``erp_outbox_topic_idx`` (varchar_pattern_ops) serves it; ``istartswith`` compares upper(topic)
    and no index serves that."""
    events = OutboxEventFilter({"topic": " Sales.Order"}, queryset=OutboxEvent.objects.all()).qs.order_by()
    sql, params = events.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "erp_outbox_topic_idx" in plan, plan
