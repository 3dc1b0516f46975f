"""External tools are users of the API: a client generated from docs/openapi.json must work.

openapi-python-client generates a Python client from it (once per session, into a temporary
directory, never into the repository; a few seconds), and the script of docs/api.md's "Generate
a client" section runs with that client against a live server: it creates a warehouse and a
product, receives stock, creates and confirms a sales order, and lists them.
(test_openapi_valid.py checks the document against the specification.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from inventory.models import Product
from sales.models import SalesOrder
from tests.erp.factories import UserFactory, api_key_for

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "docs" / "openapi.json"
GUIDE = ROOT / "docs" / "api.md"
SECTION = "## Generate a client"
PACKAGE = "erp_api_client"
IMPORT_ALL = f"""
import importlib, pkgutil, {PACKAGE}
names = [m.name for m in pkgutil.walk_packages({PACKAGE}.__path__, "{PACKAGE}.")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""

# The generator reads JSON, text/* and application/octet-stream responses only, and skips an
# operation whose response it cannot read (with a warning). The PDF endpoints answer
# application/pdf, as they should; its documented `content_type_overrides` reads that as bytes
# (docs/api.md's "Generate a client" gives users the same setting).
CONTENT_TYPE_OVERRIDES = {"application/pdf": "application/octet-stream"}
GENERATOR_CONFIG = {
    "post_hooks": [],
    "package_name_override": PACKAGE,
    "content_type_overrides": CONTENT_TYPE_OVERRIDES,
}


def guide_script() -> str:
    """The Python block of the guide's "Generate a client" section."""
    text = GUIDE.read_text(encoding="utf-8")
    assert SECTION in text, f"docs/api.md has no '{SECTION}' section"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```python\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, f"docs/api.md's '{SECTION}' should hold one ```python block"
    return blocks[0]


@dataclass(frozen=True)
class GeneratedClient:
    path: Path  # the directory holding the package, for PYTHONPATH
    output: str


@pytest.fixture(scope="session")
def generated_client(tmp_path_factory: pytest.TempPathFactory) -> GeneratedClient:
    """A client generated from docs/openapi.json, once per session (a few seconds)."""
    where = tmp_path_factory.mktemp("client")
    config = where / "config.json"
    # No post hooks: they run ruff on the generated code, which costs time and proves nothing here.
    config.write_text(json.dumps(GENERATOR_CONFIG), encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(SCHEMA),
            "--config",
            str(config),
            "--meta",
            "none",
            "--output-path",
            str(where / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0 or not (where / PACKAGE / "client.py").exists():
        pytest.fail(f"openapi-python-client failed ({done.returncode}):\n{output[-4000:]}")
    return GeneratedClient(where, output)


def test_the_generator_takes_every_operation(generated_client: GeneratedClient):
    # It skips what it cannot read with a warning, and still exits 0: none may be skipped.
    assert "warning" not in generated_client.output.lower(), generated_client.output[-4000:]
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    operation_ids = {
        operation["operationId"] for item in schema["paths"].values() for operation in item.values()
    }
    modules = {path.stem for path in (generated_client.path / PACKAGE / "api").rglob("*.py")}

    assert operation_ids - modules == set()
    imported = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(generated_client.path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr[-4000:]
    assert int(imported.stdout) > len(operation_ids)  # every module of it imports


@pytest.mark.real_server
@pytest.mark.django_db(transaction=True)
def test_the_guides_script_works_with_the_generated_client(
    generated_client: GeneratedClient, live_server, tmp_path: Path
):
    user = UserFactory(username="client-script", is_staff=True, is_superuser=True)
    api_key = api_key_for(user, name="generated client")  # every scope
    script = tmp_path / "script.py"
    script.write_text(guide_script(), encoding="utf-8")

    done = subprocess.run(
        [sys.executable, str(script)],
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(generated_client.path),
            "BASE_URL": live_server.url,
            "API_KEY": api_key,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, f"the script failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    product = Product.objects.get()
    order = SalesOrder.objects.get()
    printed = done.stdout.splitlines()
    assert printed == [
        f"received 10.0000 x {product.sku} into {order.channel.warehouse.code}/Stock",
        f"order {order.number} is confirmed",
        f"product {product.sku}: on hand 10.0000, reserved 3.0000, available 7.0000",
        f"order {order.number}: confirmed, total 59.70 {order.currency}",
    ]
    assert order.status == "confirmed"
    assert order.lines.get().product == product
    assert order.customer.name.startswith("Customer ")
