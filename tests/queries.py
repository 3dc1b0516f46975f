"""Query-count helpers: a page or list must cost the same number of queries at any length."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

# A list is measured with FEW rows, then with MANY: a query made per row shows as MANY - FEW more.
FEW, MANY = 5, 20


def count_queries(action: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        action()
    return len(ctx.captured_queries)


def assert_constant_queries(action: Callable[[], Any], grow: Callable[[], Any]) -> int:
    """Run ``action``, ``grow`` the data, run it again: the query counts must match.

    A first, unmeasured run warms what is cached per process or throttled per
    minute (content types, an API key's last-used stamp).
    """
    action()
    before = count_queries(action)
    grow()
    after = count_queries(action)
    assert after == before, f"{before} queries before growing, {after} after: work per row"
    return before
