from __future__ import annotations

import factory

from procurement.models import Supplier


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    code = factory.Sequence(lambda n: f"S-T{n:03d}")
    name = factory.Sequence(lambda n: f"Supplier {n}")
    email = factory.LazyAttribute(lambda s: f"{s.code.lower()}@supplier.example")
    currency = "USD"
    payment_terms_days = 30
    lead_time_days = 7
