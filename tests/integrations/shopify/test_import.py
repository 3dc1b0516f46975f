"""A first import pulls every product of the shop, whatever the cursor, and links or creates by SKU."""

from __future__ import annotations

import pytest

from integrations import polling
from integrations.models import ExternalRef, SyncJob, SyncRunStatus
from inventory.models import Product

pytestmark = pytest.mark.django_db


def test_import_all_products_creates_or_links_every_variant_by_sku(connection, shop) -> None:
    # given: a cursor far in the future, so that a normal poll would pull nothing
    connection.cursors = {"product": "2999-01-01T00:00:00+00:00"}
    connection.save(update_fields=["cursors"])
    skus = sorted(variant["sku"] for _, variant in shop.variants())

    # when
    run = polling.import_all(connection=connection, object_type="product")

    # then: every variant exists here and is mapped once
    assert run.job == SyncJob.IMPORT
    assert run.status == SyncRunStatus.SUCCEEDED, run.errors
    assert sorted(Product.objects.filter(sku__in=skus).values_list("sku", flat=True)) == skus
    variants = ExternalRef.objects.filter(connection=connection, object_type="variant")
    assert variants.count() == len(skus)

    # and: a second import maps nothing twice
    again = polling.import_all(connection=connection, object_type="product")
    assert again.status == SyncRunStatus.SUCCEEDED, again.errors
    assert variants.count() == len(skus)
