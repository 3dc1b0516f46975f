"""Fuzz the API with schemathesis against a live server: `make fuzz SEED=<n> [EXAMPLES=<m>]`.

CI fuzzes in process with a few examples per operation and fixed seeds
(tests/contract/test_schemathesis.py); this explores beyond it, with any seed and as many
examples as you like, through a real HTTP server:

1. a throwaway SQLite database in a temporary directory (or ``--database-url``, an empty
   database of yours), migrated and seeded with the contract tests' world
   (tests/contract/seed.py) and a key with every scope and no rate limit;
2. gunicorn serving it on a free loopback port. The server may only reach this machine's
   loopback addresses: a fuzzed webhook or connection URL cannot make it call anywhere else;
3. ``st run`` (the schemathesis CLI) against it, with the seed, the checks CI uses, and the
   same hook as CI's (half the path ids name rows that exist: tests/contract/fuzz_hooks.py).
   Arguments after ``--`` go to ``st run`` as they are (``-- --include-path-regex /sales/``);
4. the server stopped and the directory removed (``--keep`` keeps it, with the server log).

Exits with schemathesis' status: non-zero when it found a failure. The tracebacks of the
server's 5xx answers are printed after its report.
"""

from __future__ import annotations

import argparse
import importlib
import ipaddress
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def main(argv: list[str]) -> int:
    if argv[:1] == ["_seed"]:  # internal: the child that migrates and seeds
        return seed_only()
    if argv[:1] == ["_serve"]:  # internal: the server
        return serve_loopback_only(int(argv[1]))
    ours, extra = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(
        usage="%(prog)s [--seed N] [--examples M] [--database-url URL] [--keep] [-- ST_RUN_ARGS...]",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seed", default="", help="schemathesis seed (default: a random one, printed)")
    parser.add_argument("--examples", type=int, default=50, help="examples per operation (default: 50)")
    parser.add_argument("--database-url", default="", help="an EMPTY database to use instead of SQLite")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and server log")
    args = parser.parse_args(ours)
    seed = int(args.seed) if args.seed else random.randrange(2**32)
    return fuzz(
        seed=seed, examples=args.examples, database_url=args.database_url, keep=args.keep, extra=extra
    )


def fuzz(*, seed: int, examples: int, database_url: str, keep: bool, extra: list[str]) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="erp-fuzz-"))
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DATABASE_URL=database_url or f"sqlite:///{workdir / 'fuzz.sqlite3'}",
        DJANGO_SETTINGS_MODULE="erp.settings",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])),
        LOG_LEVEL="WARNING",
    )
    server: subprocess.Popen[bytes] | None = None
    log_path = workdir / "server.log"
    status = 2
    try:
        print(f"==> database {env['DATABASE_URL']}: migrate and seed", flush=True)
        seeded = subprocess.run(
            [sys.executable, __file__, "_seed"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if seeded.returncode != 0:
            print(seeded.stdout, seeded.stderr, sep="\n", file=sys.stderr)
            return 2
        world = json.loads(seeded.stdout.strip().splitlines()[-1])

        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        print(f"==> server on {base_url} (log: {log_path})", flush=True)
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [sys.executable, __file__, "_serve", str(port)],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until_up(f"{base_url}/api/v1/health", server, log_path)

        command = [
            str(BIN / "st"),
            "run",
            f"{base_url}/api/v1/openapi.json",
            "--seed",
            str(seed),
            "--max-examples",
            str(examples),
            "--phases",
            "examples,fuzzing",
            "--mode",
            "all",
            "--checks",
            CHECKS,
            "--workers",
            "1",
            "--suppress-health-check",
            "all",
            "--warnings",
            "off",  # hundreds of lines of advice on test data; `-- --warnings <types>` to see them
            "-H",
            f"Authorization: Bearer {world['api_key']}",
            *extra,
        ]
        print(f"==> st run --seed {seed} --max-examples {examples} {' '.join(extra)}", flush=True)
        hooks_env = {
            **env,
            "SCHEMATHESIS_HOOKS": "tests.contract.fuzz_hooks",
            "ERP_FUZZ_REAL_IDS": ",".join(map(str, world["ids"])),
        }
        status = subprocess.run(command, env=hooks_env, cwd=workdir, check=False).returncode
        report_server_errors(log_path)
        print(f"==> seed {seed}: schemathesis exited {status}", flush=True)
        return status
    finally:
        if server is not None:
            stop(server)
        if keep:
            print(f"==> kept {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def seed_only() -> int:
    """In a child process (its settings read DATABASE_URL): migrate, seed, print the key and ids."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    seed = importlib.import_module("tests.contract.seed")  # test code: not type-checked with the app

    call_command("migrate", interactive=False, verbosity=0)
    world = seed.seed_world(username="fuzzer")
    print(json.dumps({"api_key": world.api_key, "ids": seed.existing_ids()}))
    return 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, server: subprocess.Popen[bytes], log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(
                f"the server exited ({server.returncode}):\n{log_path.read_text(errors='replace')}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server did not answer {url} within {timeout:.0f} s")


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)  # its own session: gunicorn and its worker
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def report_server_errors(log_path: Path) -> None:
    """The server's exceptions (erp.api logs each 500's traceback), after schemathesis' own report."""
    found: list[str] = []
    message = where = ""
    in_traceback = chained = False
    for line in log_path.read_text(errors="replace").splitlines():
        if line.startswith("Traceback ("):
            in_traceback = True
            where = where if chained else ""
        elif line.startswith(("During handling of the above", "The above exception was")):
            chained = True  # the same error again, wrapped: keep the last one
        elif in_traceback and line.startswith("  File "):
            if "site-packages" not in line:
                where = line.strip()
        elif in_traceback and line and not line.startswith(" "):
            if chained:
                found.pop()
            found.append(f"  {message}\n    {line[:300]}\n    last frame of ours: {where or '-'}")
            in_traceback = chained = False
        elif not in_traceback and not chained and line and not line.startswith(" "):
            message = line.split(" ", 3)[-1][:200]  # the log record: "<date> <time> LEVEL logger message"
    if found:
        print(f"\n==> the server logged {len(found)} exception(s):")
        print("\n".join(found))


# --- the server --------------------------------------------------------------


def _is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def loopback_only() -> None:
    """Refuse, in this process and the ones it forks, any name lookup or connection off this machine."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, f"fuzz server: {host!r} is not on this machine")
        return real_getaddrinfo(host, *args, **kwargs)

    def allowed(sock: socket.socket, address: Any) -> bool:
        return sock.family not in (socket.AF_INET, socket.AF_INET6) or _is_loopback(address[0])

    def connect(self: socket.socket, address: Any) -> None:
        if not allowed(self, address):
            raise ConnectionRefusedError(f"fuzz server: {address!r} is not on this machine")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not allowed(self, address):
            return 111  # ECONNREFUSED
        return real_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]


def serve_loopback_only(port: int) -> int:
    loopback_only()
    sys.path.insert(0, str(ROOT))
    from gunicorn.app.wsgiapp import WSGIApplication

    sys.argv = [
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--timeout",
        "120",
        "--limit-request-line",
        "0",  # no 414 from gunicorn for a long fuzzed query string: the app is what is tested
        "--graceful-timeout",
        "5",
        "erp.wsgi:application",
    ]
    WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
