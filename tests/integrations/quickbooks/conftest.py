"""What the hub-side QuickBooks tests share: the fake QuickBooks at Intuit's addresses (the API and
the token endpoint), a connection to it with the income and COGS accounts set, and ``ref``."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from integrations.connections import connection_create
from integrations.http import mounted
from integrations.models import Connection, ExternalRef
from integrations.quickbooks.fake import ACCESS_TOKEN, REALM_ID, VERIFIER_TOKEN, FakeQuickBooks

API = "https://quickbooks.api.intuit.com"
OAUTH = "https://oauth.platform.intuit.com"
SETTINGS = {"realm_id": REALM_ID, "income_account": "79", "expense_account": "80"}
SECRETS = {"access_token": ACCESS_TOKEN, "verifier_token": VERIFIER_TOKEN}


@pytest.fixture
def fake() -> Iterator[FakeQuickBooks]:
    tool = FakeQuickBooks(limits=False)
    transport = httpx.MockTransport(tool.handle)
    with mounted(API, transport), mounted(OAUTH, transport):
        yield tool


@pytest.fixture
def connection(fake) -> Connection:
    return connection_create(connector="quickbooks", name="Books", settings=SETTINGS, secrets=SECRETS)


def ref(connection: Connection, object_type: str, obj) -> ExternalRef:
    """Our record's link to the connection's QuickBooks."""
    return ExternalRef.objects.get(connection=connection, object_type=object_type, object_id=obj.pk)
