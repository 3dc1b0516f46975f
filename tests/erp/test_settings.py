"""Settings come from the environment; every default makes the embedded mode work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG_VARS = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "FIELD_ENCRYPTION_KEY",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)
STRONG_KEY = "k3y-" + "x9Qz" * 16
FERNET_KEY = "mR0pVqY2p7Jm1s6QmC2zQ6m8nO3wX5bT1yK4dF7gH0E="


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "erp.settings"
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); from django.conf import settings; {code}"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_defaults_are_the_embedded_mode():
    result = run(
        "print(settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME'], "
        "settings.CELERY_TASK_ALWAYS_EAGER, settings.DEBUG, settings.ALLOWED_HOSTS)"
    )

    assert result.returncode == 0, result.stderr
    engine, name, eager, debug, *_ = result.stdout.split(" ", 4)
    assert engine == "django.db.backends.sqlite3"
    assert name == str(ROOT / "db.sqlite3")
    assert eager == "True"
    assert debug == "True"


def test_the_development_key_is_a_loud_system_check_warning():
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    clean["DJANGO_SETTINGS_MODULE"] = "erp.settings"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "(erp.W001) SECRET_KEY is not set" in result.stderr  # runserver and migrate run the checks too


def test_database_url_and_broker_are_read_from_the_environment():
    result = run(
        "d = settings.DATABASES['default']; "
        "print(d['ENGINE'], d['NAME'], d['HOST'], d['PORT'], settings.CELERY_TASK_ALWAYS_EAGER)",
        DATABASE_URL="postgres://erp@db.internal:5433/erpdb",
        CELERY_BROKER_URL="redis://cache.internal:6379/0",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "erpdb", "db.internal", "5433", "False"]


def test_development_secret_key_is_refused_with_debug_off():
    result = run("print('started')", DEBUG="0", FIELD_ENCRYPTION_KEY=FERNET_KEY)

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "started" not in result.stdout


def test_missing_encryption_key_is_refused_with_debug_off():
    result = run("print('started')", DEBUG="0", SECRET_KEY=STRONG_KEY)

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY is not set" in result.stderr


def test_allowed_hosts_is_a_list():
    result = run("print(settings.ALLOWED_HOSTS)", ALLOWED_HOSTS="erp.example.com,.example.org")
    assert result.stdout.strip() == "['erp.example.com', '.example.org']"


@pytest.mark.parametrize("debug", ["0", "false", "off"])
def test_check_deploy_is_clean_in_production(debug: str):
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    env.update(
        DEBUG=debug if debug != "off" else "False",
        SECRET_KEY=STRONG_KEY,
        FIELD_ENCRYPTION_KEY=FERNET_KEY,
        ALLOWED_HOSTS="erp.example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_wsgi_application_freezes_what_it_loaded_and_collects_cycles_less_often():
    # when: a worker imports the application, as gunicorn does
    result = run("import gc; import erp.wsgi; print(gc.get_freeze_count(), *gc.get_threshold())")

    # then: what it loaded is out of the collector's way, which runs every 10,000 new objects
    assert result.returncode == 0, result.stderr
    frozen, *threshold = (int(n) for n in result.stdout.split())
    assert frozen > 50_000
    assert threshold == [10_000, 10, 10]
