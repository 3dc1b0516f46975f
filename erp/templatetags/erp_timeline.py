"""``{% load erp_timeline %}{% document_timeline obj %}``: the document's timeline (erp.timeline)
and, for those who can read its area, the comment form under it.

Two queries whatever the number of entries (events; comments with their authors).
"""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from erp import comments, timeline
from erp.access import user_can

register = template.Library()

TEMPLATE = "erp/_timeline.html"


def render_timeline(request: Any, obj: Any, *, body: str = "", error: str = "") -> str:
    """The timeline block of ``obj`` (also what the comment view answers htmx with)."""
    built = timeline.build(obj)
    user = getattr(request, "user", None)
    can_comment = bool(user is not None and user_can(user, built.document.area, "read"))
    context = {
        "timeline": built,
        "dom_id": "timeline-" + built.key.replace(".", "-").replace(":", "-"),
        "can_comment": can_comment,
        "body": body,
        "error": error,
        "max_length": comments.MAX_LENGTH,
    }
    return render_to_string(TEMPLATE, context, request=request)


@register.simple_tag(takes_context=True)
def document_timeline(context: template.Context, obj: Any) -> SafeString:
    request = context.get("request")
    if obj is None or timeline.document_of(obj) is None:
        return mark_safe("")
    return mark_safe(render_timeline(request, obj))


@register.filter
def with_mentions(body: str) -> SafeString:
    """A comment as text: escaped, @mentions marked, line breaks kept."""
    escaped = str(escape(body))
    marked = re.sub(
        r"(?<![\w@])@([\w.@+-]*[\w@+])", lambda m: f'<span class="mention">@{m.group(1)}</span>', escaped
    )
    return mark_safe(marked.replace("\n", "<br>"))  # escaped above
