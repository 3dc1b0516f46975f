"""docs/api.md's examples are run: every ```sh/```bash block with a curl, against a live server.

The guide's convention (documented in it, under "Running the examples"):

* the block starts with ``# expect: <status> [<status> ...]``, the HTTP status each curl in it
  answers, in order;
* optional ``# expect-output: <text>`` lines name text the block's output contains;
* a block preceded by ``<!-- awaits: <feature> -->`` documents a feature still being built: it is
  expected to fail (strict xfail), so the day it passes the test fails until the marker is removed.

The block runs in bash (``set -eo pipefail``) with BASE_URL, API_KEY, CUSTOMER_ID and ORDER_ID
set to a live server and a seeded world; ``curl`` is wrapped to report each status on stderr,
the doc's own options untouched. Each block must exit 0 and answer exactly the statuses named.
The Python webhook verification snippet is run too, against deliveries signed by the hub.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.contract.seed import seed_world

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
STATUS_MARK = "@@curl-status@@"
FENCE = re.compile(r"^```(\w*)\s*$")
AWAITS = re.compile(r"^<!--\s*awaits:\s*(.+?)\s*-->$")


@dataclass
class Example:
    line: int
    section: str
    language: str
    code: str
    awaits: str | None
    statuses: list[int] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.section.lower()).strip("-")
        return f"L{self.line}-{slug}"


def examples(language: tuple[str, ...] = ("sh", "bash")) -> list[Example]:
    found: list[Example] = []
    lines = GUIDE.read_text(encoding="utf-8").splitlines()
    section, previous, i = "", "", 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        match = FENCE.match(line)
        if not match:
            if line.strip():
                previous = line.strip()
            i += 1
            continue
        start, body = i + 1, []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        awaits = AWAITS.match(previous)
        example = Example(
            start, section, match.group(1), "\n".join(body), awaits.group(1) if awaits else None
        )
        previous = ""
        if example.language not in language:
            continue
        for row in body:
            if row.startswith("# expect:"):
                example.statuses = [int(s) for s in row.removeprefix("# expect:").split()]
            elif row.startswith("# expect-output:"):
                example.outputs.append(row.removeprefix("# expect-output:").strip())
        found.append(example)
    return found


CURL_EXAMPLES = [e for e in examples() if "curl" in e.code]


def run_block(example: Example, env: dict[str, str]) -> tuple[int, list[int], str, str]:
    script = "\n".join(
        [
            "set -eo pipefail",
            f"curl() {{ command curl --write-out '%{{stderr}}\\n{STATUS_MARK}%{{http_code}}\\n' \"$@\"; }}",
            example.code,
        ]
    )
    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    statuses = [
        int(row.removeprefix(STATUS_MARK)) for row in done.stderr.splitlines() if row.startswith(STATUS_MARK)
    ]
    errors = "\n".join(row for row in done.stderr.splitlines() if not row.startswith(STATUS_MARK))
    return done.returncode, statuses, done.stdout, errors


def test_the_guide_has_runnable_examples_for_every_topic():
    sections = {e.section for e in CURL_EXAMPLES}

    for topic in (
        "Authentication",
        "Errors",
        "Pagination",
        "Filtering and ordering",
        "Incremental sync: `updated_since`",
        "`expand`: related rows in the same request",
        "Idempotency: retrying a POST safely",
        "Optimistic concurrency: `ETag` and `If-Match`",
        "Rate limits",
        "Webhooks: events pushed to you",
    ):
        assert topic in sections, f"docs/api.md has no curl example under '## {topic}'"
    for example in CURL_EXAMPLES:
        assert example.statuses, f"docs/api.md:{example.line}: a curl block needs '# expect: <status>...'"


@pytest.fixture
def guide_env(live_server, transactional_db):
    if shutil.which("curl") is None:
        pytest.fail("curl is required to run docs/api.md's examples (apt-get install -y curl)")
    world = seed_world(rate_limited=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "BASE_URL": live_server.url,
        "API_KEY": world.api_key,
        "CUSTOMER_ID": str(world.objects["customer"].pk),
        "ORDER_ID": str(world.draft_order.pk),
    }


@pytest.mark.real_server
@pytest.mark.parametrize(
    "example",
    [
        pytest.param(
            e,
            id=e.id,
            marks=[pytest.mark.xfail(strict=True, reason=f"awaits: {e.awaits}")] if e.awaits else [],
        )
        for e in CURL_EXAMPLES
    ],
)
def test_curl_example(example: Example, guide_env: dict[str, str]):
    exit_code, statuses, output, errors = run_block(example, guide_env)

    where = f"docs/api.md:{example.line} ({example.section})"
    assert exit_code == 0, f"{where} exited {exit_code}:\n{errors}\n{output[-2000:]}"
    assert statuses == example.statuses, (
        f"{where} answered {statuses}, expected {example.statuses}:\n{output[-2000:]}"
    )
    for text in example.outputs:
        assert text.lower() in output.lower(), f"{where}: the output lacks {text!r}:\n{output[-2000:]}"


def test_the_webhook_verification_snippet_accepts_signed_deliveries_and_refuses_forgeries():
    from integrations.webhooks_out import generate_secret, signed_headers

    (snippet,) = [e for e in examples(("python",)) if "def verify" in e.code]
    secret = generate_secret()
    namespace: dict[str, object] = {}
    exec(compile(snippet.code.replace('"whsec_..."', repr(secret)), str(GUIDE), "exec"), namespace)
    verify, refused = namespace["verify"], namespace["WebhookVerificationError"]
    body = '{"id":"5b0b8f5e-7a0c-4d5e-9a55-0c1f0d1b2c3d","topic":"sales.order_created","sequence":1}'
    headers = signed_headers(secret=secret, msg_id="5b0b8f5e-7a0c-4d5e-9a55-0c1f0d1b2c3d", body=body)

    assert verify(body.encode(), headers)["topic"] == "sales.order_created"  # type: ignore[operator]
    with pytest.raises(refused):  # type: ignore[call-overload]
        verify(body.replace("order_created", "order_cancelled").encode(), headers)  # type: ignore[operator]
    with pytest.raises(refused):  # type: ignore[call-overload]
        verify(body.encode(), {**headers, "webhook-signature": "v1,AAAA"})  # type: ignore[operator]
