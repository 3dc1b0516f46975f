"""Procurement pages, one module per subject; procurement/urls.py names them.

One view per page. An htmx request whose target is a fragment of the page (``rows``,
``po``, ``bill``, ...) gets that fragment only (django-template-partials,
``"procurement/po_list.html#rows"``); any other request gets the whole page, so
every link and form also works without JavaScript. Views parse input, call a
selector or a service, and render; domain errors become form errors or an inline
message and change nothing. Reading needs ``procurement:read``, writing
``procurement:write``; the receiving screen ``inventory:write`` or ``procurement:write``.
"""
