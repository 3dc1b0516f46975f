"""Schemathesis hooks shared by the in-process fuzz test and `make fuzz` (the CLI, live server).

``flatmap_path_parameters`` makes half the generated integer path ids the id of a row that
exists (``REAL_IDS``), so the fuzzer gets past "404 not found" into the operations themselves.

The in-process test (test_schemathesis.py) registers it on its schemas and fills REAL_IDS from
its seeded world. ``schemathesis run`` loads this module through ``SCHEMATHESIS_HOOKS`` (see
tools/fuzz_live.py), which passes the seeded database's ids in ``ERP_FUZZ_REAL_IDS``; the hook
is then registered for every schema of that run.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import strategies as st

REAL_IDS: list[int] = []


def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Half the time, replace each integer path id by the id of a row that exists."""
    if not REAL_IDS or not path_parameters:
        return st.just(path_parameters)
    real = {
        name: st.one_of(st.just(value), st.sampled_from(REAL_IDS))
        if isinstance(value, int)
        else st.just(value)
        for name, value in path_parameters.items()
    }
    return st.fixed_dictionaries(real)


_ids_from_env = os.environ.get("ERP_FUZZ_REAL_IDS", "")
if _ids_from_env:
    REAL_IDS[:] = [int(value) for value in _ids_from_env.split(",") if value]
    schemathesis.hook(flatmap_path_parameters)
