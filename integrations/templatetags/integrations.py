"""Template helpers of the hub's pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag
def hook_url(connection: Any) -> str:
    """The URL the tool posts this connection's webhooks to, as the health check registers it."""
    from integrations.health import hook_url as url

    return url(connection)


@register.filter
def error_text(error: Any) -> str:
    """A sync run's error entry ({"level", "message"}, or a plain string) as text."""
    if isinstance(error, dict):
        return str(error.get("message") or error.get("error") or error)
    return str(error)


@register.filter
def error_level(error: Any) -> str:
    """The entry's level: error, warning or info (a plain string is an error)."""
    if isinstance(error, dict):
        return str(error.get("level") or "error")
    return "error"


@register.filter
def percent(value: Any) -> str:
    try:
        return f"{float(value):.0%}"
    except (TypeError, ValueError):
        return ""


@register.inclusion_tag("integrations/_status.html")
def run_status(run: Any) -> dict[str, str]:
    """A run's status badge; a run that only has warnings says so rather than "Partly failed"."""
    warnings_only = all(error_level(e) != "error" for e in run.errors or [])
    if run.status == "partial" and not run.failed and warnings_only:
        return {"status": "partial", "label": "With warnings"}
    return {"status": run.status, "label": run.get_status_display()}


@register.filter
def duration(run: Any) -> str:
    """How long a run took: "0.4 s", "12 s", "3 min 5 s"; "…" while it runs."""
    if run.finished_at is None or run.started_at is None:
        return "…"
    seconds = max(0.0, (run.finished_at - run.started_at).total_seconds())
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


# Where the hub's records live, by the object type of an inbound item's result.
RESULT_PAGES = {"order": "sales:order", "product": "inventory:product", "customer": "sales:customer"}


@register.filter
def result_items(event: Any) -> list[dict[str, str]]:
    """What processing an event did, item by item: {"text", "url"} (url "" when there is no page)."""
    from django.urls import NoReverseMatch, reverse

    items = (event.result or {}).get("items", []) if isinstance(event.result, dict) else []
    shown = []
    for item in items:
        if not isinstance(item, dict):
            continue
        label = str(item.get("label") or item.get("external_id") or "")
        outcome = str(item.get("outcome") or "")
        url = ""
        name = RESULT_PAGES.get(str(item.get("object_type")))
        if name and item.get("internal_id"):
            try:
                url = reverse(name, args=[item["internal_id"]])
            except NoReverseMatch:
                url = ""
        reason = str(item.get("reason") or "")
        shown.append({"text": f"{label} {outcome}".strip(), "url": url, "reason": reason})
    return shown
