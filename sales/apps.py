from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "sales"

    def ready(self) -> None:
        from sales import registrations  # noqa: F401  (event subscriptions, flows, search, demo data)
