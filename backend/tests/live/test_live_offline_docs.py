"""The API docs work offline (issue 9): a fresh embedded server (`make run`'s defaults: DEBUG, SQLite, static files
served by Django) renders /api/docs/ and /api/redoc/ in headless Chromium, and every request the pages make — HTML,
scripts, styles, fonts, the schema — goes to that server and nowhere else. Chromium's own net log records the
requests, so nothing the page loads can slip past the check."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client

from conftest import IN_CI
from tests.live.servers import BACKEND_DIR, BIN, running_server, server_env

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-features=OptimizationHints,MediaRouter",
    "--virtual-time-budget=8000",
]


def _chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        if IN_CI:
            pytest.fail("CI=true but Debian's chromium is not installed (.ci/run installs it)")
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    return path


@pytest.fixture(scope="module")
def embedded_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("embedded")
    env = server_env(
        DEBUG="true",
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        REDIS_URL="",
        STATIC_ROOT=str(folder / "static"),
        SERVE_STATIC="true",
    )
    for command in (["migrate", "--noinput", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run([str(BIN / "python"), "manage.py", *command], cwd=BACKEND_DIR, env=env, check=True)
    with running_server("daphne", env) as base_url:
        yield base_url


def _requested_urls(chromium: str, url: str, net_log: Path, profile: Path) -> tuple[str, list[str]]:
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--log-net-log={net_log}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    log = json.loads(net_log.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    # Requests the page made carry its origin as initiator; Chromium's own background calls (update checks, time
    # sync, which this machine's closed network refuses) say "not an origin" and are not the page's doing.
    urls = [
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start_job and event.get("params", {}).get("initiator", "not an origin") != "not an origin"
    ]
    return result.stdout, urls


@pytest.mark.live
@pytest.mark.parametrize(
    ("path", "rendered"),
    [("/api/docs/", r'class="[^"]*opblock-tag'), ("/api/redoc/", r"Switchboard API")],
)
def test_api_docs_load_nothing_from_outside(embedded_server, tmp_path, path, rendered):
    chromium = _chromium()
    dom, urls = _requested_urls(chromium, embedded_server + path, tmp_path / "net.json", tmp_path / "profile")

    origin = urlsplit(embedded_server).netloc
    assert urls, "Chromium recorded no requests"
    outside = sorted({url for url in urls if urlsplit(url).scheme in ("http", "https", "ws", "wss")
                      and urlsplit(url).netloc != origin})  # fmt: skip
    assert outside == []
    assert any(url.endswith("/api/schema/") for url in urls)  # the page loaded the schema, from us
    assert any("/static/drf_spectacular_sidecar/" in url for url in urls)
    assert re.search(rendered, dom), dom[:2000]


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_reference_only_this_server(db, path):
    html = Client().get(path).content.decode()
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert references
    assert [ref for ref in references if re.match(r"^(https?:)?//", ref)] == []
    assert "fonts.googleapis" not in html and "cdn.jsdelivr" not in html
