"""erp.pagination: page numbers as before, a cursor beside them, and counts that stop counting."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test import RequestFactory

from erp import pagination
from erp.exceptions import ValidationFailed
from erp.models import User
from erp.pagination import KeysetPagination
from tests.erp.factories import UserFactory

pytestmark = pytest.mark.django_db

REQUEST = RequestFactory().get("/")


def _page(queryset: QuerySet[Any], size: int = 3, **params: Any) -> dict[str, Any]:
    paginator = KeysetPagination(page_size=size)
    return paginator.paginate_queryset(queryset, KeysetPagination.Input(**params), REQUEST)


def _walk_by_cursor(queryset: QuerySet[Any], size: int = 3) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        answer = _page(queryset, size, **({"cursor": cursor} if cursor else {}))
        pages.append([u.pk for u in answer["items"]])
        cursor = answer["next_cursor"]
        if cursor is None:
            return pages


def _users(*names: str) -> None:
    for name in names:
        UserFactory(username=name, first_name=name[0])


@pytest.mark.parametrize(
    "ordering",
    [("username",), ("-username",), ("first_name", "-username"), ("-first_name", "date_joined"), ("-pk",)],
)
def test_cursor_pages_are_the_page_numbers_pages(ordering: tuple[str, ...]):
    # given: 8 users, sorted by one key or by several in mixed directions (ties on first_name)
    _users("ann", "amy", "bob", "ben", "bea", "cid", "cat", "dan")
    users = User.objects.order_by(*ordering)

    # when
    by_cursor = _walk_by_cursor(users)
    by_number = [[u.pk for u in _page(users, page=n)["items"]] for n in (1, 2, 3)]

    # then: the same rows in the same pages, and the last page says there is no next
    assert by_cursor == by_number
    assert sum(len(page) for page in by_cursor) == 8


def test_a_row_added_before_the_cursor_shifts_nothing():
    # given: the first page read by cursor
    _users("b1", "b2", "b3", "b4", "b5", "b6")
    users = User.objects.order_by("username")
    first = _page(users)
    assert [u.username for u in first["items"]] == ["b1", "b2", "b3"]

    # when: a user sorted before the cursor is added, then the next page is read
    _users("a0")
    second = _page(users, cursor=first["next_cursor"])

    # then: the next page starts after b3, as it would have (page 2 by number would repeat b3)
    assert [u.username for u in second["items"]] == ["b4", "b5", "b6"]
    assert second["next_cursor"] is None


def test_answer_shape_and_count():
    # given
    _users("c1", "c2", "c3", "c4")

    # when
    answer = _page(User.objects.order_by("username"))
    last = _page(User.objects.order_by("username"), page=2)

    # then
    assert set(answer) == {"items", "count", "count_exact", "next_cursor"}
    assert (answer["count"], answer["count_exact"], len(answer["items"])) == (4, True, 3)
    assert answer["next_cursor"]
    assert ([u.username for u in last["items"]], last["next_cursor"]) == (["c4"], None)


def test_count_stops_at_the_limit_and_says_it_is_not_exact(monkeypatch: pytest.MonkeyPatch):
    # given: a list longer than the count limit
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 3)
    _users("d1", "d2", "d3", "d4", "d5")

    # when
    count, exact = pagination.count_capped(User.objects.all(), limit=3)
    just_under = pagination.count_capped(User.objects.filter(username__in=["d1", "d2", "d3"]), limit=3)

    # then: an estimate of at least limit + 1, said to be one; exact up to the limit
    assert exact is False
    assert count >= 4
    assert just_under == (3, True)


def test_cursor_pages_do_not_count_again(django_assert_num_queries):
    # given
    _users("e1", "e2", "e3", "e4", "e5", "e6", "e7")
    users = User.objects.order_by("username")

    # when / then: page 1 finds its ids (and with them the count) and reads its rows; a cursor
    # page finds its ids after the cursor and reads its rows, and takes the count it carries
    with django_assert_num_queries(2):
        first = _page(users)
    with django_assert_num_queries(2):
        second = _page(users, cursor=first["next_cursor"])
    assert (second["count"], second["count_exact"]) == (first["count"], first["count_exact"]) == (7, True)
    with django_assert_num_queries(2):
        _page(users, page=2)


def _ids(queryset: QuerySet[Any]) -> list[int]:
    return list(queryset.values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("offset", "ids", "count", "queries"),
    [
        # within the limit: the ids up to the limit in one query, which are the exact count
        (0, slice(0, 3), (3, True), 1),
        # a page within the limit, of a list longer than it: the ids, then only the estimate
        (2, slice(2, 5), None, 1),
        # past the limit: no count, the estimate, never less than the rows seen
        (4, slice(4, 7), None, 1),
        # past the limit, the list's last page: its end is seen, the count is exact
        (6, slice(6, 8), (8, True), 1),
        # beyond the end: no ids, the list counted apart (up to the limit)
        (10, slice(0, 0), None, 2),
    ],
)
def test_page_and_count_reads_the_count_with_the_ids(
    monkeypatch: pytest.MonkeyPatch,
    django_assert_num_queries: Any,
    offset: int,
    ids: slice,
    count: tuple[int, bool] | None,
    queries: int,
):
    # given: 8 users, a count limit of 3, pages of 2; the first case lists 3 of them
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 3)
    _users(*(f"g{n}" for n in range(8)))
    users = User.objects.order_by("username")
    if offset == 0:
        users = users.filter(username__in=["g0", "g1", "g2"])

    # when: the page's ids (one more than a page, saying a next page exists) and the count; an
    # estimate is one EXPLAIN more on PostgreSQL
    estimates = count is None and connection.vendor == "postgresql"
    with django_assert_num_queries(queries + estimates):
        found, counted = pagination.page_and_count(users, offset, 2)

    # then
    assert found == _ids(users)[ids]
    if count is not None:
        assert counted == count
    else:
        # an estimate (PostgreSQL's planner; elsewhere the rows known), never less than the rows
        # seen, nor than the limit + 1
        assert counted[1] is False
        assert counted[0] >= max(offset + len(found) if found else 0, 4)


def _refusal(queryset: QuerySet[Any], **params: Any) -> str:
    with pytest.raises(ValidationFailed) as refused:
        _page(queryset, **params)
    assert refused.value.status_code == 422
    assert list(refused.value.field_errors) == ["cursor"]
    return refused.value.message


def test_a_cursor_of_another_ordering_or_altered_is_refused():
    # given
    _users("f1", "f2", "f3", "f4")
    cursor = _page(User.objects.order_by("username"))["next_cursor"]

    # when / then
    assert "another ordering" in _refusal(User.objects.order_by("-username"), cursor=cursor)
    assert "not valid" in _refusal(User.objects.order_by("username"), cursor=cursor[:-2] + "xx")
    assert "not valid" in _refusal(User.objects.order_by("username"), cursor="garbage")
    assert "not both" in _refusal(User.objects.order_by("username"), cursor=cursor, page=2)


def test_a_sort_key_that_may_be_empty_cannot_be_paged_by_cursor():
    # given: last_login may be null (a keyset cannot place a null where the sort does)
    _users("g1", "g2", "g3", "g4")
    by_login = User.objects.order_by("last_login")

    # when
    first = _page(by_login)

    # then: pages by number work and say no cursor; a cursor is refused with the reason
    assert (len(first["items"]), first["next_cursor"]) == (3, None)
    cursor = _page(User.objects.order_by("username"))["next_cursor"]
    assert "may be empty" in _refusal(by_login, cursor=cursor)
