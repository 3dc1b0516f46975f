from django.apps import AppConfig


class ManufacturingConfig(AppConfig):
    name = "manufacturing"

    def ready(self) -> None:
        from manufacturing import registrations  # noqa: F401  (incoming/outgoing flows, search, demo data)
