"""The base every tool's fake stands on: a clock, issued tokens, injected faults, rate limits,
pagination cursors, a webhook sender and a snapshot of the fake's state.

A tool's fake (``integrations/<tool>/fake.py``) is an honest test double: it keeps its state across
requests, answers in the tool's wire format (headers, signatures, pagination, rate limits, error
bodies) and sends webhooks on its own, at least once. What is common to every tool lives here,
so each fake carries only its tool's dialect:

* ``clock``: ``SimClock`` (the simulated day's now; sleeping moves it) and ``WallClock``;
* ``tokens``: ``TokenStore``, access tokens that expire, refresh tokens that rotate, revocation;
* ``faults``: ``FaultPlan``, failures injected per operation (429 bursts, 5xx, timeouts, slow
  answers);
* ``ratelimit``: the buckets tools meter requests with (leaky bucket, token bucket, fixed window);
* ``pagination``: opaque cursors and page slices;
* ``webhooks``: ``WebhookSender``, the outbox a fake queues deliveries in when its state
  changes, sent with the tool's retry schedule, duplicates, drops, delays and reordering, and
  a subscription disabled after repeated failures where the tool does that;
* ``base``: ``FakeTool``, the HTTP front (``httpx.MockTransport`` handler and WSGI app), the
  request log, the faults applied before the tool answers, and ``snapshot()`` for drift checks.

Nothing here imports Django: a fake runs inside the app, in a test, or on its own port
(``manage.py run_fake TOOL --port N``).
"""
