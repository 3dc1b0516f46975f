"""Inventory's demo catalog plan (the seeded demo is looked at in tests/test_demo.py)."""

from __future__ import annotations

import random

from inventory import demo


def test_the_catalog_plan_is_deterministic():
    first = demo.build_catalog(random.Random(demo.SEED))
    second = demo.build_catalog(random.Random(demo.SEED))

    assert first == second
    skus = [v.sku for t in first[0] for v in t.variants] + [p.sku for p in first[1]]
    assert len(skus) == len({s.lower() for s in skus})
