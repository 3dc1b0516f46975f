"""Serving a fake over HTTP on its own port (``manage.py run_fake``, the simulated day with real
workers): a threading WSGI server that keeps quiet about each request."""

from __future__ import annotations

from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def server(app: Any, host: str = "127.0.0.1", port: int = 0) -> WSGIServer:
    """A threading WSGI server of ``app`` on host:port (port 0: any free port); call serve_forever."""
    return make_server(host, port, app, server_class=ThreadingServer, handler_class=QuietHandler)
