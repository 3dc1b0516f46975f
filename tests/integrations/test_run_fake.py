"""``manage.py run_fake TOOL --port N``: a tool's fake on its own port, answering as the tool."""

from __future__ import annotations

import threading

import httpx
import pytest
from django.core.management import CommandError

from integrations.management.commands.run_fake import fakes, server_for
from integrations.shopify.fake_data import ACCESS_TOKEN, API_VERSION


@pytest.mark.real_server
def test_the_fake_shop_answers_on_its_own_port_like_the_tool():
    server = server_for("shopify", "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}/admin/api/{API_VERSION}"
    try:
        ok = httpx.get(f"{base}/shop.json", headers={"X-Shopify-Access-Token": ACCESS_TOKEN})
        refused = httpx.get(f"{base}/shop.json", headers={"X-Shopify-Access-Token": "wrong"})
    finally:
        server.shutdown()
        server.server_close()

    assert ok.status_code == 200
    assert ok.json()["shop"]["name"]
    assert refused.status_code == 401


def test_a_tool_without_a_fake_is_refused_naming_the_ones_there_are():
    assert "shopify" in fakes()
    with pytest.raises(CommandError, match="shopify"):
        server_for("nosuchtool", "127.0.0.1", 0)
