"""When the suite makes a template database (tests/conftest.py): on PostgreSQL, in the controlling
process, when the test databases are created anew with migrations; never on SQLite, in a worker,
with ``--reuse-db`` (whose databases are kept) or ``--nomigrations``; nor when the caller has made
one (CI, beside ``make check``) and names it in ERP_TEST_DATABASE_TEMPLATE."""

from __future__ import annotations

import subprocess
from types import SimpleNamespace
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
        self.stash = pytest.Stash()

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


@pytest.fixture
def postgres_session(monkeypatch: pytest.MonkeyPatch) -> tuple[SimpleNamespace, list[str], list[str]]:
    """A controlling session on PostgreSQL whose template would be made (migrated) and dropped here:
    what it made and dropped is recorded instead."""
    monkeypatch.setenv("DATABASE_URL", POSTGRES)
    monkeypatch.setitem(
        settings.DATABASES,
        "default",
        {"ENGINE": "django.db.backends.postgresql", "NAME": "erp_x", "TEST": {}},
    )
    made: list[str] = []
    dropped: list[str] = []
    monkeypatch.setattr(conftest, "recreate_database", lambda db: made.append(db.name))
    monkeypatch.setattr(
        conftest.subprocess, "run", lambda *a, **kw: subprocess.CompletedProcess(a, 0, "", "")
    )
    monkeypatch.setattr(conftest, "drop_database", lambda db: dropped.append(db.name))
    return SimpleNamespace(config=Config()), made, dropped


def test_the_session_makes_its_template_and_drops_it(
    monkeypatch: pytest.MonkeyPatch, postgres_session: tuple[SimpleNamespace, list[str], list[str]]
) -> None:
    # given
    session, made, dropped = postgres_session
    monkeypatch.delenv(conftest.TEMPLATE_ENV, raising=False)

    # when
    conftest.pytest_sessionstart(session)  # type: ignore[arg-type]
    given_to_workers = conftest.os.environ.get(conftest.TEMPLATE_ENV)
    conftest.pytest_sessionfinish(session)  # type: ignore[arg-type]

    # then
    assert made == dropped == ["test_erp_x_template"]
    assert given_to_workers == "test_erp_x_template"
    assert conftest.TEMPLATE_ENV not in conftest.os.environ


def test_a_template_the_caller_made_is_used_as_it_is_and_left_to_the_caller(
    monkeypatch: pytest.MonkeyPatch, postgres_session: tuple[SimpleNamespace, list[str], list[str]]
) -> None:
    # given: CI migrated erp_ci_template beside make check
    session, made, dropped = postgres_session
    monkeypatch.setenv(conftest.TEMPLATE_ENV, "erp_ci_template")

    # when
    conftest.pytest_sessionstart(session)  # type: ignore[arg-type]
    conftest.pytest_sessionfinish(session)  # type: ignore[arg-type]

    # then: not migrated again, not dropped, still given to the workers
    assert made == dropped == []
    assert conftest.os.environ[conftest.TEMPLATE_ENV] == "erp_ci_template"
