from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"

    def ready(self) -> None:
        from inventory import registrations  # noqa: F401  (search, demo data, event subscriptions)
