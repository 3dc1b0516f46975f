"""Where a connector package's demo fake lives for ``make run``, and how the hub's client reaches it.

With the fakes on (DEBUG or ERP_DEMO_FAKES) the hub serves each connector package's shared fake at
/integrations/fake-<key>/ (``views.demo.connector_fake_api``), and a demo connection points its base
URL there; ``mount`` routes the hub's own requests to that address to the fake in-process, so seeding
and the connection work without a running server.
"""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings

from integrations import http


def fakes_enabled() -> bool:
    return bool(settings.ERP_DEMO_FAKES)


def fake_url(key: str) -> str:
    """The demo fake of connector ``key``, as the served app answers it."""
    return f"{str(settings.ERP_DEMO_BASE_URL).rstrip('/')}/integrations/fake-{key}"


def mount(key: str, app: Any) -> None:
    """Route the hub's requests to ``fake_url(key)`` to ``app`` (a WSGI fake) in this process."""
    http.mount(fake_url(key), httpx.WSGITransport(app=app))


def is_demo(connection: Any, key: str) -> bool:
    """Whether ``connection`` is connector ``key``'s demo connection: it points at the served fake."""
    base = str((connection.settings or {}).get("base_url") or "")
    return bool(connection.connector == key and base.rstrip("/") == fake_url(key))
