"""Roles are Django groups whose area permissions follow erp.access.ROLES.

Synced after every migrate, so a role gains the permissions a later issue adds
without a data migration per change. Groups that are not roles are left alone.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from erp.access import LEVELS, ROLES, permission_codename


def sync_roles(**kwargs: Any) -> None:
    from erp.models import AreaAccess

    content_type = ContentType.objects.get_for_model(AreaAccess, for_concrete_model=False)
    perms = {p.codename: p for p in Permission.objects.filter(content_type=content_type)}
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role.name)
        wanted = []
        for area, level in role.grants.items():
            for lvl in LEVELS[: LEVELS.index(level) + 1]:
                codename = permission_codename(area, lvl)
                if codename in perms:
                    wanted.append(perms[codename])
        wanted += [perms[right] for right in role.rights if right in perms]
        area_perm_ids = {perms[c].pk for c in perms}
        keep = [p for p in group.permissions.all() if p.pk not in area_perm_ids]
        group.permissions.set(keep + wanted)
