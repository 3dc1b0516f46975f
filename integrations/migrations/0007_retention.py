"""Partial indexes for the retention purge (integrations/retention.py).

Each holds only the rows the purge has still to do: a purged row leaves its index (its body is
emptied), so the daily run reads what expired since the last run, never the purged history.

"""

from django.db import migrations, models
from django.db.models import Q

INBOUND_PURGE = models.Index(
    fields=["processed_at"],
    name="integrations_inbound_purge_idx",
    condition=Q(status__in=["processed", "skipped"]) & ~Q(body=b""),
)
REQUEST_LOG_PURGE = models.Index(
    fields=["created_at"],
    name="integrations_reqlog_purge_idx",
    condition=~Q(response_body="[body purged]"),
)


class Migration(migrations.Migration):

    dependencies = [
        ("integrations", "0006_transport"),
    ]

    operations = [
        migrations.AddIndex(model_name="inboundevent", index=INBOUND_PURGE),
        migrations.AddIndex(model_name="requestlog", index=REQUEST_LOG_PURGE),
    ]
