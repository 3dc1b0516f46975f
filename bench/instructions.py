#!/usr/bin/env python
"""Instructions per order: what order ingest costs this process, counted, not timed.

    .venv/bin/python bench/instructions.py [--small 10] [--large 110]

On a shared machine the CPU time of an order moves by 10 to 15 % from one minute to the next,
more than most changes to the order path are worth. Valgrind's callgrind counts the instructions
a process executes instead, the same from one run to the next within 0.2 %: this runs
``bench/profile_orders.py`` (its orders, in process, through the WSGI handler, against its
database, which it keeps: ``--keep-db``) under callgrind twice, with ``--small`` and with
``--large`` orders, and prints the difference per order. The fixture, Django's start and
everything else both runs share cancel out. The count is of this process (Django, the app, the
driver, libpq), not PostgreSQL's; an instruction is not a nanosecond, but a change that removes
4 % of them saves about as much of its CPU.

Needs valgrind (Debian: ``apt-get install -y valgrind``), and what profile_orders needs
(PostgreSQL, Redis). Each run is 50 times slower than without: about 3 minutes each.
On 2026-12-07: 30.4 M instructions per order at 8cf1ab5 (two runs: 30.44 M and 30.38 M), 27.4 M
at ae1c03d.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def count(orders: int) -> int:
    """Instructions of one run of profile_orders with ``orders`` orders, as callgrind counts them."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        str(ROOT / "bench" / "profile_orders.py"),
        "--n",
        str(orders),
        "--warmup",
        "5",
        "--no-profile",
        "--keep-db",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    found = REFS.search(done.stderr)
    if done.returncode != 0 or found is None:
        sys.exit(f"profile_orders under valgrind failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return int(found.group(1).replace(",", ""))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--small", type=int, default=10, help="orders of the first run (default 10)")
    parser.add_argument("--large", type=int, default=110, help="orders of the second run (default 110)")
    args = parser.parse_args(argv)
    if args.large <= args.small:
        parser.error("--large must be more orders than --small")
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install -y valgrind)")
    small, large = count(args.small), count(args.large)
    per_order = (large - small) / (args.large - args.small)
    print(f"instructions/order  {per_order / 1e6:.2f} M  ({args.small} and {args.large} orders)")


if __name__ == "__main__":
    main()
