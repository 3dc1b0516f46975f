from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ErpConfig(AppConfig):
    name = "erp"
    verbose_name = "ERP kernel"

    def ready(self) -> None:
        from simple_history.signals import pre_create_historical_record

        import erp.checks  # noqa: F401  (registers the kernel's system checks)
        from erp.history import record_api_key
        from erp.roles import sync_roles

        post_migrate.connect(sync_roles, sender=self, dispatch_uid="erp.sync_roles")
        pre_create_historical_record.connect(record_api_key, dispatch_uid="erp.history.record_api_key")
        from erp import company, onboarding, timestamps, waiting

        timestamps.install()  # PostgreSQL's timestamps parsed in C

        company.install()  # the company profile, cached per request
        onboarding.install()  # the home's getting-started checklist
        waiting.install()  # the home's "waiting for you"
