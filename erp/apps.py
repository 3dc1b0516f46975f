from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ErpConfig(AppConfig):
    name = "erp"
    verbose_name = "ERP kernel"

    def ready(self) -> None:
        from erp.roles import sync_roles

        post_migrate.connect(sync_roles, sender=self, dispatch_uid="erp.sync_roles")
