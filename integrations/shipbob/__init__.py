"""ShipBob (3PL / WMS), API version 2026-01: the fake (``fake*.py``) and, later, its connector."""
