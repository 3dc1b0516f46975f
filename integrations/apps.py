import importlib
import pkgutil
from pathlib import Path

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integration hub"

    def ready(self) -> None:
        # Every integrations/<key>/connector.py registers its connector on import.
        for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
            if module.ispkg and (Path(__file__).parent / module.name / "connector.py").exists():
                importlib.import_module(f"integrations.{module.name}.connector")
        from integrations import outbound

        outbound.install()  # the outbox fans out to connections and webhook subscriptions
        from integrations import demo  # noqa: F401  (registers the demo seeder with erp.demo)
