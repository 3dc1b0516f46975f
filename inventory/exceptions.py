"""Inventory's domain errors. Each says what was asked and what was possible."""

from __future__ import annotations

from decimal import Decimal

from erp.exceptions import DomainError, ValidationFailed


class InventoryError(DomainError):
    pass


class InsufficientStock(InventoryError):
    """Refused: not enough stock. Names the product, location, quantity asked and available."""

    def __init__(self, *, sku: str, location: str, requested: Decimal, available: Decimal, detail: str = ""):
        message = (
            f"Not enough {sku} at {location}: {_fmt(requested)} requested, {_fmt(available)} available"
            + (f" ({detail})" if detail else "")
            + "."
        )
        super().__init__(
            message, sku=sku, location=location, requested=str(requested), available=str(available)
        )
        self.sku = sku
        self.location = location
        self.requested = requested
        self.available = available


class InvalidStockOperation(ValidationFailed):
    """The operation makes no sense as asked (wrong location kind, missing lot, ...)."""


def _fmt(value: Decimal) -> str:
    normalized = value.normalize()
    return f"{normalized:f}"
