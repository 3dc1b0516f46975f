import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")

application = get_wsgi_application()

# The URLconf, with every API router and the schemas it builds, is imported when the worker starts,
# not by its first request: that request took 0.7 s longer (a 5,000-line count answered in 5.1 s
# instead of 4.4). It reads no database.
get_resolver().url_patterns  # noqa: B018  (the attribute imports the module)

# Python's cycle collector. What the worker has loaded by now (Django, the apps, the URLconf and
# its schemas: about 200,000 objects) lives as long as the worker: frozen, the collector no longer
# walks it. And it runs after 10,000 new objects instead of 700, about once in 35 orders instead of
# every other one: each run walks what a request has in hand, whatever the threshold, so fewer
# runs cost less (in process, 1,500 orders placed through the API: 0.30 ms of collection per order
# before, 0.13 after, 2026-12-07). Memory is not at stake: the cycles freed are one request's.
gc.freeze()
gc.set_threshold(10_000, 10, 10)
