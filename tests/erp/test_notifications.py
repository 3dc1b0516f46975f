"""Notifications (erp.notifications): told once per key while unread, mailed when asked, the bell's
count in one query, the page, reading one and reading all."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client, override_settings

from erp import notifications
from erp.models import Notification
from tests.erp.factories import UserFactory
from tests.queries import count_queries

pytestmark = pytest.mark.django_db


def tell(users, key: str = "po-approval:1", url: str = "/x/", **extra):
    return notifications.notify(
        users, kind="approval_requested", title="Approve PO-1", url=url, key=key, **extra
    )


def test_the_same_key_is_not_told_twice_while_unread_but_again_once_read():
    # given
    ada, bo = UserFactory(username="ada"), UserFactory(username="bo")
    tell([ada])

    # when: told again, ada has it unread; bo is new
    again = tell([ada, bo])

    # then
    assert [n.recipient_id for n in again] == [bo.pk]
    assert Notification.objects.filter(recipient=ada).count() == 1

    # when: ada reads it, then the same thing happens again
    notifications.notifications_read_all(user=ada)
    after_read = tell([ada])

    # then
    assert [n.recipient_id for n in after_read] == [ada.pk]
    assert Notification.objects.filter(recipient=ada).count() == 2


def test_no_key_means_no_dedupe_and_the_insert_is_one_query_per_call():
    # given
    users = [UserFactory(username=f"u{i}") for i in range(5)]

    # when
    queries = count_queries(lambda: notifications.notify(users, kind="mention", title="Hi"))
    notifications.notify(users, kind="mention", title="Hi")

    # then: one bulk insert (and its savepoint), whatever the number of users
    assert queries <= 3
    assert Notification.objects.count() == 10


@override_settings(NOTIFICATIONS_EMAIL=True, EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_with_email_on_each_recipient_with_an_address_is_mailed_after_the_commit(
    django_capture_on_commit_callbacks,
):
    # given
    ada = UserFactory(username="ada", email="ada@example.com")
    noaddress = UserFactory(username="nomail", email="")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        tell([ada, noaddress], body="PO-1 needs you")

    # then
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert mail.outbox[0].subject == "Approve PO-1"
    assert "PO-1 needs you" in mail.outbox[0].body
    assert Notification.objects.get(recipient=ada).emailed_at is not None
    assert Notification.objects.get(recipient=noaddress).emailed_at is None


@override_settings(NOTIFICATIONS_EMAIL=False, EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_with_email_off_nothing_is_mailed(django_capture_on_commit_callbacks):
    # given
    ada = UserFactory(username="ada", email="ada@example.com")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        tell([ada])

    # then
    assert mail.outbox == []
    assert Notification.objects.get(recipient=ada).emailed_at is None


def test_the_bell_shows_the_unread_count_at_one_query_whatever_the_count(client: Client):
    # given
    ada = UserFactory(username="ada", roles=["Sales"])
    client.force_login(ada)
    tell([ada], key="a")
    client.get("/notifications/")  # warm

    # when
    few = count_queries(lambda: client.get("/notifications/"))
    page = client.get("/notifications/").content.decode()
    for i in range(12):
        tell([ada], key=f"k{i}")
    many = count_queries(lambda: client.get("/notifications/"))
    page_many = client.get("/notifications/").content.decode()

    # then
    assert few == many
    assert 'class="count">1<' in page
    assert 'class="count">13<' in page_many
    assert "Notifications: 13 unread" in page_many


def test_the_bell_is_asked_once_per_page():
    # given
    ada = UserFactory(username="ada")
    tell([ada], key="a")
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = ada

    # when: the page reads the count twice (the link's label and its badge)
    count = notifications.unread_count(request)["notifications_unread"]
    queries = count_queries(lambda: (count(), count()))

    # then
    assert (count(), queries) == (1, 1)


def test_the_page_lists_unread_first_and_opening_one_marks_it_read_and_goes_there(client: Client):
    # given: an older unread, a newer read, another person's
    ada, bo = UserFactory(username="ada"), UserFactory(username="bo")
    old_unread = tell([ada], key="old", url="/sales/")[0]
    newer = tell([ada], key="new")[0]
    notifications.notification_read(user=ada, pk=newer.pk)
    theirs = tell([bo], key="theirs")[0]
    client.force_login(ada)

    # when
    page = client.get("/notifications/")
    opened = client.get(f"/notifications/{old_unread.pk}/open/")
    not_mine = client.get(f"/notifications/{theirs.pk}/open/")

    # then
    assert [n.pk for n in page.context["items"]] == [old_unread.pk, newer.pk]
    assert (opened.status_code, opened["Location"]) == (302, "/sales/")
    old_unread.refresh_from_db()
    assert old_unread.read_at is not None
    assert not_mine.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_notification_pointing_elsewhere_opens_the_list_instead(client: Client):
    # given
    ada = UserFactory(username="ada")
    evil = tell([ada], key="evil", url="https://evil.example/")[0]
    client.force_login(ada)

    # when
    opened = client.get(f"/notifications/{evil.pk}/open/")

    # then
    assert opened["Location"] == "/notifications/"


def test_mark_all_read(client: Client):
    # given
    ada = UserFactory(username="ada")
    for key in ("a", "b", "c"):
        tell([ada], key=key)
    client.force_login(ada)

    # when
    response = client.post("/notifications/read-all/", follow=True)

    # then
    assert notifications.unread(ada).count() == 0
    assert "3 notifications marked read." in response.content.decode()
    assert 'class="count"' not in response.content.decode()


def test_the_list_is_paginated(client: Client):
    # given
    ada = UserFactory(username="ada")
    notifications.notify([ada], kind="mention", title="one")
    for i in range(35):
        tell([ada], key=f"k{i}")
    client.force_login(ada)

    # when
    first = client.get("/notifications/")
    second = client.get("/notifications/?page=2")

    # then
    assert len(first.context["items"]) == 30
    assert len(second.context["items"]) == 6
    assert "Page 2 of 2" in second.content.decode()
