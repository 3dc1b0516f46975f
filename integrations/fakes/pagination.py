"""Pagination as tools do it: opaque cursors, numbered pages, offsets and keyset boundaries.

* ``encode_cursor(data)`` / ``decode_cursor(cursor, required=)``: an opaque cursor is
  base64url (unpadded) of compact JSON; a cursor that does not decode, is not a JSON object,
  or lacks a ``required`` key raises ``BadCursor`` (the fake answers its tool's 400 for it).
* ``numbered_page(items, page, size)``: page ``page`` (from 1) of ``size`` items, with the count
  of pages (ShipStation, ShipBob, the test tools).
* ``offset_page(items, offset, limit)``: ``limit`` items from ``offset`` and the next offset
  (None on the last page).
* ``keyset_start(keys, boundary, direction, limit, descending=)``: where a page starts in
  sorted ``keys`` when a cursor carries the key of the last item seen (``"next"``) or of the
  first (``"prev"``); Shopify's ``page_info``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T")


class BadCursor(ValueError):
    """A cursor this fake did not issue (or that was tampered with)."""


def encode_cursor(data: Mapping[str, Any]) -> str:
    """An opaque cursor carrying ``data`` (JSON-able)."""
    raw = json.dumps(dict(data), separators=(",", ":"), sort_keys=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, required: Iterable[str] = ()) -> dict[str, Any]:
    """What ``encode_cursor`` put in ``cursor``; ``BadCursor`` when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (ValueError, binascii.Error, TypeError):
        raise BadCursor(f"Invalid cursor {cursor[:40]!r}: not an opaque cursor this API issued") from None
    if not isinstance(data, dict):
        raise BadCursor(f"Invalid cursor {cursor[:40]!r}: not an opaque cursor this API issued")
    missing = sorted(set(required) - set(data))
    if missing:
        raise BadCursor(f"Invalid cursor {cursor[:40]!r}: it lacks {', '.join(missing)}")
    return data


@dataclass(frozen=True)
class Page(Generic[T]):
    """One numbered page of a list."""

    items: list[T]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages the list has (at least one, empty or not)."""
        return max(1, -(-self.total // self.size))

    @property
    def next_number(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def numbered_page(items: Sequence[T], page: int, size: int) -> Page[T]:
    """Page ``page`` (1-based; below 1 reads as 1) of ``size`` items."""
    if size <= 0:
        raise ValueError("size must be positive")
    number = max(int(page), 1)
    start = (number - 1) * size
    return Page(list(items[start : start + size]), number, size, len(items))


def offset_page(items: Sequence[T], offset: int, limit: int) -> tuple[list[T], int | None]:
    """``limit`` items from ``offset``, and the offset of the next page (None: this is the last)."""
    if limit <= 0:
        raise ValueError("limit must be positive")
    start = max(int(offset), 0)
    chunk = list(items[start : start + limit])
    return chunk, (start + limit if start + limit < len(items) else None)


def keyset_start(
    keys: Sequence[Any],
    boundary: Any,
    direction: Literal["next", "prev"] | str,
    limit: int,
    *,
    descending: bool = False,
) -> int:
    """The index a page starts at in ``keys`` (sorted, ``descending`` or not).

    ``"next"``: the first key past ``boundary`` (the last key of the page before); ``"prev"``:
    the page of ``limit`` keys that ends just before ``boundary`` (the first key of the page after).
    """
    if direction == "next":
        after = [i for i, k in enumerate(keys) if (k < boundary if descending else k > boundary)]
        return after[0] if after else len(keys)
    if direction == "prev":
        before = [i for i, k in enumerate(keys) if (k > boundary if descending else k < boundary)]
        return max(0, (before[-1] + 1 if before else 0) - limit)
    raise BadCursor(f"Invalid cursor direction {direction!r}")
