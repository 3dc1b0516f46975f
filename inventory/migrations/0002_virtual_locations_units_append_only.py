"""Virtual locations and base units, created once; stock moves made append-only in PostgreSQL."""

from django.db import migrations

VIRTUAL = [
    ("supplier", "Partners/Suppliers"),
    ("customer", "Partners/Customers"),
    ("production", "Virtual/Production"),
    ("adjustment", "Virtual/Inventory adjustment"),
    ("scrap", "Virtual/Scrap"),
    ("transit", "Virtual/Transit"),
]

UNITS = [
    ("pcs", "Pieces", False),
    ("kg", "Kilograms", True),
    ("g", "Grams", True),
    ("m", "Metres", True),
    ("l", "Litres", True),
    ("box", "Boxes", False),
    ("pack", "Packs", False),
    ("pallet", "Pallets", False),
]

APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION inventory_stockmove_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'stock moves are append-only: write a reversing move instead'
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER inventory_stockmove_append_only
    BEFORE UPDATE OR DELETE ON inventory_stockmove
    FOR EACH ROW EXECUTE FUNCTION inventory_stockmove_append_only();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS inventory_stockmove_append_only ON inventory_stockmove;
DROP FUNCTION IF EXISTS inventory_stockmove_append_only();
"""


def create_base_data(apps, schema_editor):
    Location = apps.get_model("inventory", "Location")
    UnitOfMeasure = apps.get_model("inventory", "UnitOfMeasure")
    for kind, path in VIRTUAL:
        Location.objects.get_or_create(
            kind=kind, warehouse=None, defaults={"name": path.split("/")[-1], "path": path}
        )
    for code, name, fractions in UNITS:
        UnitOfMeasure.objects.get_or_create(code=code, defaults={"name": name, "allows_fractions": fractions})


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_SQL)


def drop_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [
        migrations.RunPython(create_base_data, migrations.RunPython.noop),
        migrations.RunPython(append_only, drop_append_only),
    ]
