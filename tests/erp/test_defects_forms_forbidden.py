"""Issue #21, defect 3: a read-only user is refused a create/edit form when it OPENS it (403 at GET),
not after typing a whole document and submitting it.

The walk is over the URL configuration itself: every named route whose name says it is a form
(new, edit, create, settings of a connection, ...) must be listed here, so a form added later
without a table entry fails this test instead of slipping through.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from erp.access import AREAS, permission_codename
from tests.erp.factories import UserFactory

pytestmark = pytest.mark.django_db

# Route name -> kwargs for reverse(). A pk that does not exist is fine: the right is checked before
# the record is looked up, so the answer is 403 whatever the pk (a 404 would mean it was not).
FORMS: dict[str, dict[str, object]] = {
    "inventory:product-new": {},
    "inventory:product-variants": {},
    "inventory:product-edit": {"pk": 1},
    "inventory:transfer": {},
    "inventory:adjust": {},
    "inventory:count-new": {},
    "inventory:count-lines": {"pk": 1},
    "inventory:transfer-receive": {"pk": 1},
    "sales:order-new": {},
    "sales:order-edit": {"pk": 1},
    "sales:order-lines": {"pk": 1},
    "sales:order-ship": {"pk": 1},
    "sales:return-new": {"pk": 1},
    "sales:return-receive": {"pk": 1},
    "sales:fulfilment-ship": {"pk": 1},
    "sales:customer-new": {},
    "sales:customer-edit": {"pk": 1},
    "procurement:order-new": {},
    "procurement:order-edit": {"pk": 1},
    "procurement:order-bill": {"pk": 1},
    "procurement:receive": {},
    "procurement:supplier-new": {},
    "procurement:supplier-edit": {"pk": 1},
    "procurement:item-new": {},
    "procurement:supplier-item-new": {"pk": 1},
    "procurement:item-edit": {"pk": 1, "item_pk": 1},
    "manufacturing:bom-new": {},
    "manufacturing:order-new": {},
    "integrations:connection-new": {"connector": "shopify"},
    "integrations:connection-edit": {"pk": 1},
}

# Routes whose name looks like a form but that every signed-in user may open: a user's own API key
# (keys are personal; scopes are capped by the user's own rights), and the BOM page, which is the
# BOM's detail for readers (read-only fields, no save buttons) and its editor for writers; a bill's
# detail page; /settings/, a redirect to the settings pages (which check their own rights).
NOT_AREA_FORMS = {"key-new", "manufacturing:bom", "procurement:bill", "settings"}

FORM_NAME = re.compile(r"(^|[:-])(new|edit|create|settings|transfer|adjust|receive|ship|bill|lines)$")


def _named_routes(resolver: URLResolver, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= _named_routes(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}{entry.name}")
    return names


@pytest.fixture
def reader() -> Client:
    """Reads every area, writes none, holds no special right."""
    user = UserFactory(username="reader")
    codenames = [permission_codename(area, "read") for area in AREAS]
    user.user_permissions.set(
        Permission.objects.filter(codename__in=codenames, content_type__app_label="erp")
    )
    client = Client()
    client.force_login(user)
    return client


def test_every_form_route_is_in_the_table():
    forms = {name for name in _named_routes(get_resolver()) if FORM_NAME.search(name)}
    missing = forms - set(FORMS) - NOT_AREA_FORMS
    assert not missing, f"form routes not checked for read-only users: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(FORMS))
def test_a_read_only_user_is_refused_the_form_when_opening_it(reader, name):
    url = reverse(name, kwargs=FORMS[name])

    response = reader.get(url)

    assert response.status_code == 403, f"GET {url}: {response.status_code}"
    assert b"have access to this page" in response.content


def test_the_reader_still_opens_the_lists(reader):
    for name in ("inventory:products", "sales:orders", "procurement:orders", "manufacturing:orders"):
        assert reader.get(reverse(name)).status_code == 200, name
