"""``manage.py check_stock`` over the large fixture's 1,000,000 moves: time and peak memory.

On the large fixture (bench/scenarios/_scale.py), ``manage.py check_stock`` runs as a subprocess
with the bench's environment; its wall time and its peak resident set (``ru_maxrss`` of that
process alone, read by a small wrapper: see WRAPPER) are the figures. It must exit 0 (no drift: the fixture's
levels are computed from its moves). Targets (#22): under 30 s and under 200 MB.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from bench.scenario import Scenario, Target
from bench.scenarios import _scale

ROOT = Path(__file__).resolve().parent.parent.parent


def setup(n: int) -> int:
    _scale.scale()
    return n


# The child's peak is read by a small parent of its own: os.wait4 on a child of this process would
# report this process's peak instead (Linux keeps the high-water mark of the memory a child is forked
# or vforked with across its exec, and this process holds the large fixture's state). The wrapper is
# a bare interpreter (~10 MB at the fork), so the figure is at most that much too high.
WRAPPER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"maxrss-kb {usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measure(n: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, sys.executable, str(ROOT / "manage.py"), "check_stock"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    output = done.stdout.strip()
    if done.returncode != 0:
        raise AssertionError(f"check_stock exited {done.returncode}: {output[-1000:]} {done.stderr[-1000:]}")
    found = re.search(r"^maxrss-kb (\d+)$", done.stderr, re.MULTILINE)
    if found is None:
        raise AssertionError(f"no peak RSS from the wrapper: {done.stderr[-1000:]}")
    megabytes = int(found.group(1)) / 1024  # kilobytes on Linux
    print(
        f"  check_stock: {seconds:.1f} s, peak RSS {megabytes:.0f} MB: {output.splitlines()[0]}",
        file=sys.stderr,
    )
    return {"seconds": seconds, "peak RSS MB": megabytes}


SCENARIO = Scenario(
    name="check_stock",
    description=__doc__ or "",
    setup=setup,
    measure=measure,
    default_n=1,
    quick_n=1,
    targets=(Target("seconds", 30.0, unit="s"), Target("peak RSS MB", 200.0, unit="MB")),
    shown=(),
    order=82,
)
