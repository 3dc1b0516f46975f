"""erp.timestamps: PostgreSQL's timestamps read with ``datetime.fromisoformat`` give exactly what
Django's loader gives, and everything else is left to Django's loader."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from psycopg.pq import Format

from erp import timestamps
from erp.models import OutboxEvent
from erp.prepared import prepared_cursor


def _django_loader(timezone: Any) -> type[Any]:
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    return type("SpecificTzLoader", (BaseTzLoader,), {"timezone": timezone})


@pytest.mark.parametrize("timezone", [dt.UTC, None])
@pytest.mark.parametrize(
    "text",
    [
        b"2026-12-07 10:00:00.123456+00",
        b"2026-12-07 10:00:00+00",
        b"2026-12-07 23:59:59.5+00",
        b"2026-12-07 10:00:00+05:30",  # another offset: Django's loader
        b"1999-01-08 04:05:06-08",
        b"0044-03-15 10:00:00+00 BC",
        b"10000-01-01 00:00:00+00",
        b"infinity",
        b"-infinity",
    ],
)
def test_a_timestamp_loads_as_djangos_loader_loads_it(text: bytes, timezone: Any):
    # given
    django = _django_loader(timezone)
    fast = timestamps.fast_loader(django)
    oid = 1184

    # when
    def load(loader: type[Any]) -> Any:
        try:
            return loader(oid).load(text)
        except Exception as exc:  # the same refusal is what is compared
            return type(exc)

    # then
    expected, got = load(django), load(fast)
    assert got == expected
    if isinstance(expected, dt.datetime):
        assert got.tzinfo is expected.tzinfo
        assert got.utcoffset() == expected.utcoffset()


def test_a_fast_loader_is_made_once_per_django_loader():
    django = _django_loader(dt.UTC)

    assert timestamps.fast_loader(django) is timestamps.fast_loader(django)
    assert timestamps.fast_loader(django).timezone is dt.UTC  # what Django checks per cursor


@pytest.mark.postgres
@pytest.mark.django_db
def test_each_postgresql_connection_reads_timestamps_with_the_fast_loader():
    # given
    written = dt.datetime(2026, 12, 7, 10, 0, 0, 123456, tzinfo=dt.UTC)
    event = OutboxEvent.objects.create(
        topic="t.x", aggregate_type="t", aggregate_id="1", sequence=1, created_at=written
    )

    # when: read by the ORM, by a Django cursor and by a server-binding cursor
    loader = connection.connection.adapters.get_loader(1184, Format.TEXT)
    by_orm = OutboxEvent.objects.get(pk=event.pk).created_at
    with connection.cursor() as cursor:
        cursor.execute("SELECT created_at FROM erp_outboxevent WHERE id = %s", [event.pk])
        by_cursor = cursor.fetchone()[0]
    with prepared_cursor() as cursor:
        cursor.execute("SELECT created_at FROM erp_outboxevent WHERE id = %s", [event.pk])
        by_prepared = cursor.fetchone()[0]

    # then
    assert loader.__name__.startswith("Fast")
    assert by_orm == by_cursor == by_prepared == written
    assert by_orm.tzinfo is by_cursor.tzinfo is dt.UTC
    timestamps.install_on(connection)  # again: nothing changes
    assert connection.connection.adapters.get_loader(1184, Format.TEXT) is loader
