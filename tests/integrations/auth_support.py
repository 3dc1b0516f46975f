"""What the tests of tokens and sign-in share: Tally (the test accounting tool shaped like QuickBooks)
registered, its fake mounted on the hub's HTTP client, a connection to it, and a browser's visit to
the fake's consent page.

Test modules import the fixture by its function name (``tally_fixture``); tests ask for ``tally``
(the fake).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from integrations import http, registry
from integrations.connections import connection_create
from integrations.models import Connection
from tests.integrations.conformance.tally.connector import BASE_URL, REALM, TallyConnector
from tests.integrations.conformance.tally.fake import ACCESS_TOKEN, VERIFIER, FakeTally
from tests.integrations.conformance.tally.fake_oauth import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN

TOOL_URL = "https://tally.test/"
APP = {"verifier_token": VERIFIER, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
SIGNED_IN = {**APP, "access_token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN}


@pytest.fixture(name="tally")
def tally_fixture(db) -> Iterator[FakeTally]:
    """Tally registered (if it is not) and its fake answering at https://tally.test/."""
    try:
        registry.get(TallyConnector.key)
        known = True
    except registry.UnknownConnector:
        registry.register(TallyConnector)
        known = False
    fake = FakeTally()
    try:
        with http.mounted(TOOL_URL, httpx.MockTransport(fake.handle)):
            yield fake
    finally:
        if not known:
            registry.unregister(TallyConnector.key)


def tally_connection(
    name: str = "Tally books", *, secrets: dict[str, Any] | None = None, base_url: str = BASE_URL
) -> Connection:
    """A connection to the fake Tally; by default signed in (its tokens are the fake's first ones)."""
    return connection_create(
        connector=TallyConnector.key,
        name=name,
        settings={"base_url": base_url, "realm_id": REALM},
        secrets=SIGNED_IN if secrets is None else secrets,
    )


def consent(fake: FakeTally, authorize_url: str, decision: str = "allow") -> str:
    """A person on the tool's consent page (which names the app's scopes) clicks "Allow" (or
    "Deny"): where the tool sends the browser back to."""
    page = fake.handle(httpx.Request("GET", authorize_url))
    assert page.status_code == 200, page.text
    assert "Allow" in page.text
    assert "com.tally.accounting" in page.text
    answer = fake.handle(
        httpx.Request("GET", httpx.URL(authorize_url).copy_merge_params({"decision": decision}))
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]
