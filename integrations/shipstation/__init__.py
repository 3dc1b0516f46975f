"""ShipStation (API V1)."""
