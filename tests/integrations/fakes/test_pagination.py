"""Opaque cursors and the page helpers."""

from __future__ import annotations

import base64

import pytest

from integrations.fakes.pagination import (
    BadCursor,
    decode_cursor,
    encode_cursor,
    keyset_start,
    numbered_page,
    offset_page,
)


def test_a_cursor_round_trips_and_is_url_safe_without_padding():
    data = {"d": "next", "k": [1712345678.0, 42], "f": {"status": "any?&="}}

    cursor = encode_cursor(data)

    assert decode_cursor(cursor, required=("d", "k", "f")) == data
    assert not set(cursor) & set("=+/")


@pytest.mark.parametrize(
    "cursor",
    ["nope", "!!!", base64.urlsafe_b64encode(b"[1, 2]").decode(), base64.urlsafe_b64encode(b"{bad").decode()],
)
def test_a_cursor_we_did_not_issue_is_a_clear_error(cursor):
    with pytest.raises(BadCursor, match="Invalid cursor"):
        decode_cursor(cursor)


def test_a_cursor_missing_a_required_key_says_which():
    with pytest.raises(BadCursor, match="lacks f, k"):
        decode_cursor(encode_cursor({"d": "next"}), required=("d", "k", "f"))


def test_numbered_pages_count_pages_and_the_next_one():
    items = list(range(5))

    first, last, beyond = numbered_page(items, 1, 2), numbered_page(items, 3, 2), numbered_page(items, 4, 2)

    assert (first.items, first.pages, first.next_number) == ([0, 1], 3, 2)
    assert (last.items, last.next_number) == ([4], None)
    assert beyond.items == []
    assert numbered_page([], 1, 10).pages == 1
    assert numbered_page(items, 0, 2).items == [0, 1]


def test_offset_pages_give_the_next_offset_until_the_last():
    items = list("abcde")

    assert offset_page(items, 0, 2) == (["a", "b"], 2)
    assert offset_page(items, 4, 2) == (["e"], None)
    assert offset_page(items, 3, 2) == (["d", "e"], None)


def test_keyset_start_walks_forward_and_back_in_either_order():
    keys = [[10], [20], [30], [40], [50]]

    assert keyset_start(keys, [20], "next", 2) == 2
    assert keyset_start(keys, [50], "next", 2) == 5
    assert keyset_start(keys, [50], "prev", 2) == 2
    assert keyset_start(keys, [20], "prev", 2) == 0
    descending = list(reversed(keys))
    assert keyset_start(descending, [40], "next", 2, descending=True) == 2
    with pytest.raises(BadCursor):
        keyset_start(keys, [20], "sideways", 2)
