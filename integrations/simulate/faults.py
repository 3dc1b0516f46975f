"""The faults a simulated day injects, as named profiles (``--faults default``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Faults:
    """Chances and counts of what goes wrong during the day.

    Webhooks: ``duplicate`` (a delivery sent twice with the same id), ``drop`` (lost),
    ``reorder`` (a round sent newest first). The tool's API: ``throttle`` and ``error`` (the chance
    per step of a burst of 429s or 5xx), ``timeout`` and ``slow`` (of an answer that never comes,
    or comes late). ``expired_tokens``: how many times in the day every access token the tool
    issued expires at once (the hub must refresh and carry on). ``permanent``: how many stock
    pushes the tool refuses for good (422): each may leave one dead letter, which the report
    explains by it. ``kill_worker``: with real workers, a worker is killed with SIGKILL mid-task
    once (late acks and claim leases must recover its work).
    """

    duplicate: float = 0.0
    drop: float = 0.0
    reorder: float = 0.0
    throttle: float = 0.0
    error: float = 0.0
    timeout: float = 0.0
    slow: float = 0.0
    expired_tokens: int = 0
    permanent: int = 0
    kill_worker: bool = False

    @classmethod
    def named(cls, name: str) -> Faults:
        if name == "none":
            return cls()
        if name == "default":
            return cls(
                duplicate=0.05,
                drop=0.02,
                reorder=0.2,
                throttle=0.03,
                error=0.03,
                timeout=0.01,
                slow=0.02,
                expired_tokens=1,
                permanent=1,
                kill_worker=True,
            )
        raise ValueError(f"Unknown fault profile {name!r} (default, none).")
