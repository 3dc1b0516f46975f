"""One backoff for every retry: exponential, capped, with full jitter.

The n-th retry waits a random time between 1 s (or the ceiling, if smaller) and
``min(cap, base x 2^(n-1))``: "full jitter", which spreads the retries of many failing
items (a tool that was down for everyone) instead of sending them back in waves. Inbound
events and outbound deliveries each pass their own base and cap (settings).
"""

from __future__ import annotations

import random


def backoff_seconds(attempts: int, *, base: float, cap: float) -> float:
    """Seconds to wait before the retry that follows ``attempts`` failed attempts."""
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    return random.uniform(min(1.0, ceiling), ceiling)  # jitter, not cryptography
