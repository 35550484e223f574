"""The documentation's curl examples run as printed (issue 9) against a live demo server: `make run`'s embedded
defaults (DEBUG, SQLite, in-memory layers), migrated and seeded with `seed_demo`, served by daphne.

Every ```sh block of the documents below that talks to `$B` runs, in order, in one bash session per document (so a
later block uses the `$ACCESS` an earlier one set), with `curl` failing on any HTTP error. A block that cannot run
unattended says why in a marker line right above it: `<!-- docs-test: skip — <reason> -->`.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.live.servers import BACKEND_DIR, BIN, running_server, server_env

REPO = BACKEND_DIR.parent
DOCUMENTS = ["docs/api.md", "docs/platforms.md", "docs/assistant.md"]
BLOCK = re.compile(r"(?P<marker><!-- docs-test: skip[^>]*-->\n)?```sh\n(?P<code>.*?)```", re.S)
METRICS_TOKEN = "docs-examples-metrics-token"

PRELUDE = """set -euo pipefail
cd "$REPO"
# Every example's curl fails the run on an HTTP error (the examples themselves pass -s).
curl() { command curl --fail-with-body --silent --show-error --max-time 20 "$@"; }
"""
# Documents other than api.md say "$ACCESS: an access token (api.md)": the test logs in as api.md shows.
LOGIN = """ACCESS=$(curl -s -X POST $B/api/accounts/login/ -H 'Content-Type: application/json' \\
  -d '{"email": "demo@switchboard.local", "password": "switchboard-demo"}' \\
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access"])')
"""


def runnable_blocks(document: str) -> tuple[list[str], list[str]]:
    text = (REPO / document).read_text(encoding="utf-8")
    run, skipped = [], []
    for match in BLOCK.finditer(text):
        code = match.group("code")
        if "$B" not in code:
            continue  # settings, shell setup or an example for another host
        (skipped if match.group("marker") else run).append(code)
    return run, skipped


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("docs-demo")
    env = server_env(
        DEBUG="true",
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        REDIS_URL="",
        METRICS_TOKEN=METRICS_TOKEN,
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    for command in (["migrate", "--noinput", "-v", "0"], ["seed_demo"]):
        subprocess.run(
            [str(BIN / "python"), "manage.py", *command], cwd=BACKEND_DIR, env=env, check=True, capture_output=True
        )
    with running_server("daphne", env) as base_url:
        yield base_url


@pytest.mark.live
@pytest.mark.parametrize("document", DOCUMENTS)
def test_documentation_examples_run_as_printed(demo_server, document, tmp_path):
    blocks, _ = runnable_blocks(document)
    assert blocks, f"{document} has no runnable examples"
    script = tmp_path / "examples.sh"
    prelude = PRELUDE + ("" if document == "docs/api.md" else LOGIN)
    script.write_text(prelude + "\n".join(f"# --- example {n}\n{code}" for n, code in enumerate(blocks, 1)))
    result = subprocess.run(
        ["bash", str(script)],
        env={
            "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin",
            "B": demo_server,
            "REPO": str(REPO),
            "METRICS_TOKEN": METRICS_TOKEN,
            "HOME": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{document}: an example failed\n{result.stderr[-3000:]}\n{result.stdout[-2000:]}"


def test_every_skipped_example_says_why():
    for document in DOCUMENTS:
        text = (REPO / document).read_text(encoding="utf-8")
        for marker in re.findall(r"<!-- docs-test: skip([^>]*)-->", text):
            assert len(marker.strip(" —-")) > 10, f"{document}: a skipped example without a reason"


def test_the_examples_are_found(tmp_path):
    """The extraction itself: a runnable block, a skipped one, and one that is not for $B."""
    sample = Path(tmp_path / "doc.md")
    sample.write_text(
        "```sh\ncurl -s $B/healthz\n```\n"
        "<!-- docs-test: skip — needs the code from the email -->\n```sh\ncurl -s $B/api/x/\n```\n"
        "```sh\nexport DATABASE_URL=postgres://…\n```\n"
    )
    matches = [(bool(m.group("marker")), m.group("code")) for m in BLOCK.finditer(sample.read_text())]
    assert matches == [
        (False, "curl -s $B/healthz\n"),
        (True, "curl -s $B/api/x/\n"),
        (False, "export DATABASE_URL=postgres://…\n"),
    ]
