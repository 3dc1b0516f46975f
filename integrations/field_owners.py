"""Who owns each field of a customer that a CRM keeps too: the hub, the tool, or the last writer.

A CRM is the one tool where both sides edit the same records, so ownership there is per field, a
rule of the connection (``Connector.field_owners``, from its settings over ``DEFAULTS``):

* "hub": ours. Sent to the tool; the tool's changes are not applied, and ours is sent again.
* "tool": the tool's. Never sent to it; its changes are applied (kept on the link when we have no
  column for the field: lifecycle stage, owner, marketing).
* "latest": the last writer wins, by the time each side changed it (here: the customer's history;
  there: the tool's property timestamp).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Owner(StrEnum):
    HUB = "hub"
    TOOL = "tool"
    LATEST = "latest"


# Our names of the fields a CRM keeps, in the order pages show them.
FIELDS: tuple[str, ...] = (
    "code",
    "name",
    "email",
    "phone",
    "address",
    "tax_id",
    "payment_terms",
    "lifecycle_stage",
    "owner",
    "marketing",
)
LABELS: Mapping[str, str] = {
    "code": "Customer number",
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "address": "Address",
    "tax_id": "Tax id",
    "payment_terms": "Credit terms",
    "lifecycle_stage": "Lifecycle stage",
    "owner": "Owner (sales rep)",
    "marketing": "Marketing status",
}
# Fields only the hub can own: the customer number is what the tool's records are keyed on.
HUB_ONLY = frozenset({"code"})
# Fields the hub has no column for: what the tool says of them is kept on the link (so only the
# tool can own them: the hub has nothing of its own to send).
KEPT_ON_LINK = frozenset({"lifecycle_stage", "owner", "marketing"})
# The fields that are columns of our Customer (the address is its billing address).
COLUMNS = ("name", "email", "phone", "tax_id", "payment_terms")
SETTING = "field_owners"  # the key of a connection's settings holding its overrides
DEFAULTS: Mapping[str, Owner] = {
    "code": Owner.HUB,
    "address": Owner.HUB,
    "tax_id": Owner.HUB,
    "payment_terms": Owner.HUB,
    "lifecycle_stage": Owner.TOOL,
    "owner": Owner.TOOL,
    "marketing": Owner.TOOL,
    "name": Owner.LATEST,
    "email": Owner.LATEST,
    "phone": Owner.LATEST,
}


def rules(overrides: Mapping[str, str]) -> dict[str, Owner]:
    """``DEFAULTS`` with a connection's overrides; an unknown field or owner, or a hub-only field
    given to the tool, is refused with a message a person can act on."""
    merged = dict(DEFAULTS)
    for name, owner in overrides.items():
        if name not in DEFAULTS:
            raise ValueError(f"{name!r} is not a customer field a CRM keeps; known: {', '.join(FIELDS)}.")
        try:
            merged[name] = Owner(owner)
        except ValueError:
            raise ValueError(f"The owner of {name} must be hub, tool or latest, not {owner!r}.") from None
        if name in HUB_ONLY and merged[name] != Owner.HUB:
            raise ValueError(f"{LABELS[name]} is always the hub's: the tool's records are keyed on it.")
        if name in KEPT_ON_LINK and merged[name] != Owner.TOOL:
            raise ValueError(
                f"{LABELS[name]} is always the tool's: the hub keeps no value of its own to send."
            )
    return merged


def withheld(owners: Mapping[str, Owner]) -> tuple[str, ...]:
    """The fields the tool owns, sorted: never sent to it once it has the record."""
    return tuple(sorted(f for f, owner in owners.items() if owner == Owner.TOOL))


def latest(owners: Mapping[str, Owner]) -> tuple[str, ...]:
    """The fields whose last writer wins, sorted."""
    return tuple(sorted(f for f, owner in owners.items() if owner == Owner.LATEST))


@dataclass(frozen=True)
class FieldRule:
    """One line of the customer fields' table (the ownership page, the API:
    ``ownership.customer_fields``)."""

    field: str
    label: str
    owner: Owner
    is_default: bool  # DEFAULTS' owner, not one set on the connection
    choices: tuple[Owner, ...]  # the owners it may be given

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "label": self.label,
            "owner": self.owner.value,
            "default": self.is_default,
            "choices": [c.value for c in self.choices],
        }


def choices(name: str) -> tuple[Owner, ...]:
    if name in HUB_ONLY:
        return (Owner.HUB,)
    if name in KEPT_ON_LINK:
        return (Owner.TOOL,)
    return (Owner.HUB, Owner.TOOL, Owner.LATEST)
