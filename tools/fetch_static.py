"""Fetch the front-end packages the UI serves, from the npm registry, by pinned version and hash.

Nothing third-party is committed and nothing is loaded from a CDN: the setup
downloads each package's tarball once, checks its published sha512 integrity,
and unpacks the files we serve into erp/static/vendor/ (git-ignored).
Needs only Python: no Node.js.
"""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "erp" / "static" / "vendor"

# name, version, sha512 integrity (from `npm view NAME@VERSION dist.integrity`), {tar member: target}
PACKAGES = [
    (
        "htmx.org",
        "2.0.8",
        "sha512-fm297iru0iWsNJlBrjvtN7V9zjaxd+69Oqjh4F/Vq9Wwi2kFisLcrLCiv5oBX0KLfOX/zG8AUo9ROMU5XUB44Q==",
        {"package/dist/htmx.min.js": "htmx/htmx.min.js", "package/LICENSE": "htmx/LICENSE"},
    ),
]


def fetch(name: str, version: str, integrity: str, files: dict[str, str]) -> None:
    stamp = VENDOR / f".{name}@{version}"
    if stamp.exists() and all((VENDOR / target).exists() for target in files.values()):
        return
    url = f"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz"
    with urllib.request.urlopen(url, timeout=60) as response:
        data = response.read()
    algo, _, expected = integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    if digest != expected:
        sys.exit(f"{name}@{version}: integrity mismatch (got {algo}-{digest})")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member, target in files.items():
            extracted = tar.extractfile(member)
            if extracted is None:
                sys.exit(f"{name}@{version}: {member} missing from the tarball")
            path = VENDOR / target
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(extracted.read())
    for old in VENDOR.glob(f".{name}@*"):
        old.unlink()
    stamp.write_text(integrity)
    print(f"fetched {name}@{version}")


def main() -> None:
    VENDOR.mkdir(parents=True, exist_ok=True)
    for name, version, integrity, files in PACKAGES:
        fetch(name, version, integrity, files)


if __name__ == "__main__":
    main()
