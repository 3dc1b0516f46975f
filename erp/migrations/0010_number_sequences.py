# PostgreSQL sequences for the document numbers that may have gaps (erp.numbering.SEQUENCED), so
# that concurrent creators of orders, shipments... no longer wait on one counter row. Each starts
# after its counter's last value, so no number handed out before is handed out again. SQLite keeps
# the counters: nothing to do there.

from django.db import migrations

# As erp.numbering.SEQUENCED was when this migration was written (a migration does not follow code).
KEYS = (
    "sales.order",
    "sales.shipment",
    "sales.return",
    "procurement.po",
    "procurement.receipt",
    "inventory.transfer",
    "inventory.count",
    "manufacturing.mo",
)


def _name(key: str) -> str:
    return "erp_number_" + "".join(c if c.isalnum() else "_" for c in key.lower())


def create_sequences(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for key in KEYS:
            name = _name(key)
            cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {name} AS bigint MINVALUE 1")
            cursor.execute(
                "SELECT setval(%s, COALESCE((SELECT last_value FROM erp_numbersequence WHERE key = %s), 0) "
                "+ 1, false)",
                [name, key],
            )


def drop_sequences(apps, schema_editor):
    """Back to the counters: each takes the highest number its sequence handed out."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for key in KEYS:
            name = _name(key)
            cursor.execute(f"SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {name}")
            row = cursor.fetchone()
            used = int(row[0]) if row else 0
            cursor.execute(
                "INSERT INTO erp_numbersequence (key, last_value) VALUES (%s, %s) ON CONFLICT (key) "
                "DO UPDATE SET last_value = GREATEST(erp_numbersequence.last_value, EXCLUDED.last_value)",
                [key, used],
            )
            cursor.execute(f"DROP SEQUENCE IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("erp", "0009_accounting_rights"),
    ]

    operations = [migrations.RunPython(create_sequences, drop_sequences)]
