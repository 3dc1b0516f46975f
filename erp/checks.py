"""System checks of the kernel (run by runserver, migrate and `manage.py check`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning


@register(Tags.security)
def development_secret_key(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """The public development key is allowed with DEBUG on only (settings refuse it otherwise)."""
    from erp.settings import DEV_SECRET_KEY

    if settings.SECRET_KEY != DEV_SECRET_KEY:
        return []
    return [
        CheckWarning(
            "SECRET_KEY is not set: using the public DEVELOPMENT key. "
            "Never run like this outside your own machine.",
            hint="Set SECRET_KEY in the environment (any long random string).",
            id="erp.W001",
        )
    ]
