"""Gunicorn hooks for the bench's server: count the SQL statements each worker runs, server-side.

Each worker appends a counting wrapper to every database connection it opens (Django's
``execute_wrappers``, as ``connection.execute_wrapper`` does) and, after each request, stores
its statements, requests and commits so far in ``$BENCH_STATS_DIR/<pid>.counts``, three 64-bit
integers in a file it maps into memory (``COUNTS``); the bench sums the files. A store into the
mapping costs no system call: writing a file per request (open, write, rename) cost each request
0.6 ms of the server's CPU on this machine's ext4, as much as a tenth of an order's, and the bench
measured itself.
BEGIN and COMMIT are not statements Django runs, so they are not counted as statements.

``commits`` are the transactions that wrote: each commit of an atomic block (Django's
``connection.commit``, patched here) and each write run outside one (autocommit: an INSERT, UPDATE
or DELETE that commits on its own). PostgreSQL's own ``xact_commit`` counts every read run in
autocommit as a transaction too (the connection health check's ``SELECT 1``, the key lookup); the
bench shows that figure beside this one.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
from typing import Any

COUNTS = struct.Struct("<qqq")  # statements, requests, commits (Server.statements reads them)

_lock = threading.Lock()
_counts = {"statements": 0, "requests": 0, "commits": 0}
_mapped: list[mmap.mmap] = []  # this worker's counts file, mapped (post_worker_init)
_WRITES = ("INSERT", "UPDATE", "DELETE", "WITH")  # WITH: a data-modifying CTE (the outbox's insert)


def _count(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    autocommit_write = not context["connection"].in_atomic_block and sql.lstrip()[:6].upper().startswith(
        _WRITES
    )
    with _lock:
        _counts["statements"] += 1
        _counts["commits"] += autocommit_write
    return execute(sql, params, many, context)


def _count_commits() -> None:
    from django.db.backends.base.base import BaseDatabaseWrapper

    commit = BaseDatabaseWrapper.commit

    def counted(self: Any) -> None:
        with _lock:
            _counts["commits"] += 1
        commit(self)

    BaseDatabaseWrapper.commit = counted  # type: ignore[method-assign]


def _instrument(sender: Any, connection: Any, **kwargs: Any) -> None:
    if _count not in connection.execute_wrappers:  # once per connection object, however often it reconnects
        connection.execute_wrappers.append(_count)


def post_worker_init(worker: Any) -> None:
    from django.db.backends.signals import connection_created

    connection_created.connect(_instrument, weak=False)
    _count_commits()
    _map_counts()


def _map_counts() -> None:
    """Create this worker's counts file and map it (``post_request`` stores into it)."""
    path = os.path.join(os.environ["BENCH_STATS_DIR"], f"{os.getpid()}.counts")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.ftruncate(fd, COUNTS.size)
        _mapped.append(mmap.mmap(fd, COUNTS.size))
    finally:
        os.close(fd)  # the mapping keeps the file


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    with _lock:
        _counts["requests"] += 1
        COUNTS.pack_into(_mapped[0], 0, _counts["statements"], _counts["requests"], _counts["commits"])
