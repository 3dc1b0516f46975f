"""Serve a tool's fake on its own port: ``manage.py run_fake shopify --port 8790``.

The fakes run inside the app for tests and the ``make run`` demo; on their own port a connection
(its base URL pointed at ``http://127.0.0.1:<port>``), another process or a person's browser can
talk to one as to the tool. A fake is ``integrations/<tool>/fake.py``'s ``wsgi_app()``; its state
lives as long as the process.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIServer

from django.core.management.base import BaseCommand, CommandError, CommandParser

import integrations
from integrations.fakes import serve


def fakes() -> dict[str, Any]:
    """Tool key -> its fake's WSGI app factory, for every connector package that ships one."""
    found: dict[str, Any] = {}
    root = Path(integrations.__file__).parent
    for module in pkgutil.iter_modules([str(root)]):
        if module.ispkg and (root / module.name / "fake.py").exists():
            fake = importlib.import_module(f"integrations.{module.name}.fake")
            if hasattr(fake, "wsgi_app"):
                found[module.name] = fake.wsgi_app
    return found


def server_for(tool: str, host: str, port: int) -> WSGIServer:
    """A threading WSGI server of ``tool``'s fake on host:port (port 0: any free port)."""
    factories = fakes()
    if tool not in factories:
        raise CommandError(f"No fake for {tool!r}: there are {', '.join(sorted(factories)) or 'none'}.")
    return serve.server(factories[tool](), host, port)


class Command(BaseCommand):
    help = "Serve a tool's fake (its API, consent page and webhooks) on its own port."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tool", help="the connector's key: " + ", ".join(sorted(fakes())))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8790)

    def handle(self, *args: Any, **options: Any) -> None:
        server = server_for(options["tool"], options["host"], options["port"])
        port = server.server_port
        self.stdout.write(f"Fake {options['tool']} on http://{options['host']}:{port}/ (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        finally:
            server.server_close()
