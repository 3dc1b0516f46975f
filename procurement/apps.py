from django.apps import AppConfig


class ProcurementConfig(AppConfig):
    name = "procurement"

    def ready(self) -> None:
        from procurement import registrations  # noqa: F401  (incoming flows, search, demo data)
