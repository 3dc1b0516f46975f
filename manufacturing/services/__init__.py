"""Every write of manufacturing."""

from manufacturing.services.boms import (
    ComponentSpec,
    OperationSpec,
    bom_activate,
    bom_create,
    bom_update,
    work_centre_create,
)
from manufacturing.services.orders import mo_cancel, mo_confirm, mo_create, mo_finish, mo_produce, mo_start

__all__ = [
    "ComponentSpec",
    "OperationSpec",
    "bom_activate",
    "bom_create",
    "bom_update",
    "mo_cancel",
    "mo_confirm",
    "mo_create",
    "mo_finish",
    "mo_produce",
    "mo_start",
    "work_centre_create",
]
