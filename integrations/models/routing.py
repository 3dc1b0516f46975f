"""Who ships what: a fulfilment rule per warehouse, optionally per sales channel.

The orders to be shipped from a warehouse go to one shipping tool or 3PL connection, or are
shipped here (no rule, or a rule naming no connection). A rule for one channel wins over the
warehouse's rule for every channel, so "everything from Reno goes to ShipBob, except wholesale,
which we pack ourselves" is two rules. ``integrations.routing`` reads and changes them.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from erp.models import AuditedModel, audit_history


class FulfilmentRule(AuditedModel):
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(
        "sales.SalesChannel",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Empty: the orders of every channel shipped from the warehouse.",
    )
    connection = models.ForeignKey(
        "integrations.Connection",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fulfilment_rules",
        help_text="The shipping tool or 3PL that ships them; empty: shipped here.",
    )
    history = audit_history()

    class Meta:
        ordering = ["warehouse", "channel", "id"]
        constraints = [
            # Two partial constraints rather than nulls_distinct=False, which only PostgreSQL 15+ has.
            models.UniqueConstraint(
                fields=["warehouse", "channel"],
                condition=Q(channel__isnull=False),
                name="integrations_fulfilmentrule_unique_channel",
            ),
            models.UniqueConstraint(
                fields=["warehouse"],
                condition=Q(channel__isnull=True),
                name="integrations_fulfilmentrule_unique_warehouse",
            ),
        ]

    def __str__(self) -> str:
        who = self.connection_id if self.connection_id is not None else "here"
        return f"{self.warehouse_id}/{self.channel_id or '*'} -> {who}"
