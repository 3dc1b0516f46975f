"""An aggregate's events are found by the unique (aggregate_type, aggregate_id, sequence) index:
the index on (aggregate_type, aggregate_id) alone only cost a write per event (issue #22)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('erp', '0010_number_sequences'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='outboxevent',
            name='erp_outbox_aggregate_idx',
        ),
    ]
