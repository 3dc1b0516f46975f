# The accountant's rights (issue #21, separation of duties: docs/roles.md): sales_invoice and
# procurement_bill, beside the area permissions. erp.roles.sync_roles gives them to the roles after
# migrate.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("erp", "0008_company_profile"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="areaaccess",
            options={
                "default_permissions": (),
                "managed": False,
                "permissions": [
                    ("inventory_read", "Can read inventory"),
                    ("inventory_write", "Can write inventory"),
                    ("sales_read", "Can read sales"),
                    ("sales_write", "Can write sales"),
                    ("procurement_read", "Can read procurement"),
                    ("procurement_write", "Can write procurement"),
                    ("manufacturing_read", "Can read manufacturing"),
                    ("manufacturing_write", "Can write manufacturing"),
                    ("integrations_read", "Can read integrations"),
                    ("integrations_write", "Can write integrations"),
                    ("procurement_approve", "Can approve purchase orders above the approval threshold"),
                    (
                        "sales_ship",
                        "Can ship sales orders (pick reserved stock and issue it) without editing them",
                    ),
                    ("manage_api_keys", "Can see and revoke the API keys of every user"),
                    (
                        "sales_invoice",
                        "Can invoice sales orders, issue and void invoices, record payments and refunds",
                    ),
                    (
                        "procurement_bill",
                        "Can record, approve and void supplier bills and record bill payments",
                    ),
                ],
                "verbose_name": "area access",
            },
        ),
    ]
