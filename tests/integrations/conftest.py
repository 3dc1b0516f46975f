"""The hub's tests run with the production coalescing window (the embedded default is 0).

A test that needs another window sets ``settings.INTEGRATIONS_COALESCE_SECONDS`` itself.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _production_coalescing_window(settings):
    settings.INTEGRATIONS_COALESCE_SECONDS = 2.0
