"""Demo data of the kernel: an admin and one user per role.

Each app adds its own demo data through ``register()``; ``seed()`` runs them
in order. Every seeder is idempotent: it looks records up by natural keys and
creates only what is missing, so running twice gives the same data.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from erp.access import ROLES
from erp.roles import sync_roles

DEMO_ADMIN = ("admin", "admin")
DEMO_PASSWORD = "demo"

Seeder = Callable[[], list[str]]
_seeders: list[tuple[int, str, Seeder]] = []


def register(order: int, name: str, seeder: Seeder) -> None:
    _seeders[:] = [s for s in _seeders if s[1] != name]
    _seeders.append((order, name, seeder))


def _seed_users() -> list[str]:
    User = get_user_model()
    username, password = DEMO_ADMIN
    admin, _ = User.objects.get_or_create(
        username=username,
        defaults={"email": "admin@example.com", "first_name": "Ada", "last_name": "Admin"},
    )
    admin.is_staff = admin.is_superuser = True
    admin.set_password(password)
    admin.save()
    lines = [f"admin login: {username} / {password}  (superuser)"]
    for role in ROLES:
        login = role.name.lower().replace(" ", "_")
        user, _ = User.objects.get_or_create(
            username=login, defaults={"email": f"{login}@example.com", "first_name": role.name}
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.set([Group.objects.get(name=role.name)])
    lines.append(
        f"role logins (password '{DEMO_PASSWORD}'): "
        + ", ".join(r.name.lower().replace(" ", "_") for r in ROLES)
    )
    return lines


register(0, "users", _seed_users)


def _seed_company() -> list[str]:
    """The company's details (Settings → Company), unless someone saved them already."""
    from erp.company import company_profile_update, profile
    from erp.models import CompanyProfile

    if not CompanyProfile.objects.exists():
        company_profile_update(
            by=get_user_model().objects.get(username=DEMO_ADMIN[0]),
            name="Trailhead Outfitters LLC",
            address="1200 Granite Way\nSuite 300\nBoulder, CO 80302\nUnited States",
            email="hello@trailhead.example",
            phone="+1 303 555 0142",
            tax_id="EIN 84-1234567",
            base_currency=str(settings.ERP_BASE_CURRENCY),
            timezone_name="America/Denver",
        )
    return [f"company: {profile().name} ({profile().base_currency})"]


register(1, "company", _seed_company)


@transaction.atomic
def seed(only: Iterable[str] | None = None, *, progress: Callable[[str], None] | None = None) -> list[str]:
    """Every registered seeder in order; ``only``: the users and just these (each app's tests seed
    the apps their demo builds on, not every app that happens to be imported). ``progress`` is
    told each step as it starts and ends (``manage.py seed_demo`` prints them)."""
    sync_roles()
    wanted = None if only is None else {"users", *only}
    unknown = (wanted or set()) - {name for _, name, _ in _seeders}
    if unknown:
        raise ValueError(f"no demo seeder named {', '.join(sorted(unknown))}")
    report: list[str] = []
    steps = [(name, seeder) for _, name, seeder in sorted(_seeders, key=lambda s: s[0])]
    steps = [(name, seeder) for name, seeder in steps if wanted is None or name in wanted]
    for number, (name, seeder) in enumerate(steps, start=1):
        started = time.monotonic()
        if progress:
            progress(f"[{number}/{len(steps)}] {name}: seeding ...")
        report.extend(seeder())
        if progress:
            progress(f"[{number}/{len(steps)}] {name}: done in {time.monotonic() - started:.0f} s")
    return report
