import importlib
from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def ensure_base_data(sender: AppConfig, **kwargs: Any) -> None:
    """Virtual locations and base units exist after every migrate, and after a test's flush too."""
    migration = importlib.import_module("inventory.migrations.0002_virtual_locations_units_append_only")
    migration.create_base_data(kwargs.get("apps") or global_apps, None)


class InventoryConfig(AppConfig):
    name = "inventory"

    def ready(self) -> None:
        from inventory import registrations  # noqa: F401  (search, demo data, event subscriptions)

        post_migrate.connect(ensure_base_data, sender=self, dispatch_uid="inventory.ensure_base_data")
