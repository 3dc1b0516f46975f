"""Manufacturing pages, one module per subject; manufacturing/urls.py names them.

One view per page. An htmx request whose target is a fragment of the page
(``rows``, ``mo``, ``editor``, ...) gets that fragment only (django-template-partials,
``"manufacturing/mo_list.html#rows"``); any other request gets the whole page, so
every link and form also works without JavaScript. Views parse input, call a
selector or a service, and render; domain errors become form errors or an inline
message and change nothing. Reading needs ``manufacturing:read``, writing
``manufacturing:write``.
"""
