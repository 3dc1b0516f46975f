"""The settings the test suite runs with: the app's own, plus what tests need.

Behaviour never depends on whether pytest is imported; what differs is set here.
"""

from __future__ import annotations

from erp.settings import *  # noqa: F403

# Hashing a password the production way costs a quarter of a second; the suite creates
# hundreds of users. Login and permission behaviour do not depend on the hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Static files from the apps' folders, without `collectstatic` (the browser tests load them).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# The demo's fake Shopify is mounted by the tests that use it, each with its own state.
ERP_DEMO_FAKES = False

# The hub page reads the last simulated day's report from a file: none in tests unless a test
# writes one (a developer's own artifacts/simulation.json must not show up in page tests).
INTEGRATIONS_SIMULATION_REPORT = BASE_DIR / "artifacts" / "no-such-simulation-in-tests.json"  # noqa: F405

# Background jobs run in the request that starts them, at once (erp/jobs.py), and write their
# progress on the test's own connection. The PostgreSQL test of live progress
# (tests/erp/test_jobs_concurrency.py) switches to the "jobs" alias, which mirrors default there.
JOBS_INLINE = True
JOBS_PROGRESS_DATABASE = "default"

# Every request reads its API key (no per-process cache, erp/apiauth.py): a test's query count must
# not depend on how long its setup took. tests/erp/test_apiauth_cache.py turns the cache on.
API_KEY_CACHE_SECONDS = 0

# Each transaction's dispatch task is sent as it commits: a test that sees what was published sees
# it at once, whatever the tests before it sent. tests/erp/test_dispatch_window.py sets a window.
OUTBOX_DISPATCH_WINDOW_SECONDS = 0.0
