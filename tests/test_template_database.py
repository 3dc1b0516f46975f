"""When the suite makes a template database (tests/conftest.py): on PostgreSQL, in the controlling
process, when the test databases are created anew with migrations; never on SQLite, in a worker,
with ``--reuse-db`` (whose databases are kept) or ``--nomigrations``."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from tests import conftest

POSTGRES = "postgres://postgres@127.0.0.1:5432/erp_x"


class Config:
    """The options ``_template_url`` reads, and a worker's ``workerinput`` when it is one."""

    def __init__(self, *, worker: bool = False, **options: Any) -> None:
        if worker:
            self.workerinput = {"workerid": "gw0"}
        self.options = options

    def getoption(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


@pytest.mark.parametrize(
    ("url", "engine", "config", "expected"),
    [
        (POSTGRES, "postgresql", Config(), "postgres://postgres@127.0.0.1:5432/test_erp_x_template"),
        (
            POSTGRES,
            "postgresql",
            Config(create_db=True),
            "postgres://postgres@127.0.0.1:5432/test_erp_x_template",
        ),
        (
            POSTGRES,
            "postgresql",
            Config(reuse_db=True, create_db=True),
            "postgres://postgres@127.0.0.1:5432/test_erp_x_template",
        ),
        (POSTGRES, "postgresql", Config(reuse_db=True), None),  # make test-fast: its databases are kept
        (POSTGRES, "postgresql", Config(nomigrations=True), None),
        (POSTGRES, "postgresql", Config(worker=True), None),  # the controlling process made it
        ("sqlite:///db.sqlite3", "sqlite3", Config(), None),
    ],
)
def test_a_template_is_made_only_where_it_saves_migrating(
    monkeypatch: pytest.MonkeyPatch, url: str, engine: str, config: Config, expected: str | None
) -> None:
    # given: the session's database and options
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setitem(
        settings.DATABASES, "default", {"ENGINE": f"django.db.backends.{engine}", "NAME": "erp_x", "TEST": {}}
    )

    # when / then
    assert conftest._template_url(config) == expected  # type: ignore[arg-type]
