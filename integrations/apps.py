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
        from integrations import (
            outbound,
            outbound_accounting,
            outbound_crm,
            outbound_journal,
            outbound_orders,
            outbound_receiving,
            routing,
        )

        outbound.install()  # the outbox fans out to connections and webhook subscriptions
        outbound_orders.install()  # orders to the shipping tools and 3PLs that ship them
        outbound_accounting.install()  # customers, items, invoices and payments to the books
        outbound_crm.install()  # orders as deals to a CRM
        outbound_journal.install()  # a closed day of the ledger as a journal entry in the books
        outbound_receiving.install()  # purchase orders to the 3PL that holds their warehouse
        routing.install()  # who ships a warehouse's orders, on the warehouse's page
        from integrations import (
            demo,  # noqa: F401  (registers the demo seeder with erp.demo)
            workspace,  # noqa: F401  (the role homes' figures: erp.workspace)
        )

        importlib.import_module("integrations.search")  # global search: records by the ids tools give them
        importlib.import_module("integrations.onboarding")  # the home's checklist: the tools step
        importlib.import_module("integrations.waiting")  # the home's "waiting for you": hub items

        # A connector package's own demo (integrations/<key>/demo.py) registers its seeder too.
        for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
            if module.ispkg and (Path(__file__).parent / module.name / "demo.py").exists():
                importlib.import_module(f"integrations.{module.name}.demo")
        # The hub's background jobs: reconcile, product_import, simulate_day (erp.jobs).
        from integrations import jobs  # noqa: F401
