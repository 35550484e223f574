"""Ingest benchmark: signed WhatsApp Cloud deliveries from concurrent clients against a live server on
PostgreSQL + Redis, under daphne and under uvicorn. For each server it prints, beside a baseline measured in the
same run on the same process (`/healthz` requests per second):

* messages stored per second (counted in the database afterwards),
* acknowledgement latency p50 / p99 (POST → 200),
* webhook-to-WebSocket latency p50 / p99 (POST sent → `message.created` received by a connected agent).

Usage: `make bench` (or `python bench/ingest.py --messages 2000 --clients 16`). Needs PostgreSQL and Redis;
DATABASE_URL / REDIS_URL override the local defaults. A database named switchboard_bench is recreated.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import requests
import websockets

BACKEND = Path(__file__).resolve().parents[1] / "backend"
sys.path.insert(0, str(BACKEND))

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/switchboard_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/3"))
APP_SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "555000111222"
SECRET_KEY = "bench-secret-key-" + "x" * 40


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def prepare_database() -> str:
    """Recreate the bench database, migrate it, and create an agency, an agent and a WhatsApp number."""
    name = DATABASE_URL.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        SECRET_KEY=SECRET_KEY,
        DEBUG="true",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from rest_framework_simplejwt.tokens import AccessToken

    from switchboard.accounts.models import Membership, Organization, Role, User
    from switchboard.platforms.models import PlatformAccount

    call_command("migrate", verbosity=0)
    org = Organization.objects.create(name="Bench Realty", slug="bench")
    user = User.objects.create_user("agent@bench.local", "bench-password-123")
    Membership.objects.create(user=user, organization=org, role=Role.AGENT)
    PlatformAccount.objects.create(
        organization=org,
        platform="whatsapp",
        provider="meta",
        display_name="Bench",
        external_id=PHONE_NUMBER_ID,
    )
    token = str(AccessToken.for_user(user))
    connections.close_all()
    return token


def reset_messages() -> None:
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE inbox_attachment, inbox_message, inbox_conversation, inbox_contact, webhooks_webhooklog CASCADE"
        )


def stored_messages() -> int:
    with psycopg.connect(DATABASE_URL) as conn:
        return conn.execute("SELECT count(*) FROM inbox_message").fetchone()[0]


def delivery(run: str, i: int) -> bytes:
    """One documented WhatsApp Cloud text delivery; 50 different customers so conversations are shared."""
    phone = f"1415555{i % 50:04d}"
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550001111",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [
                                {
                                    "profile": {"name": f"Customer {i % 50}"},
                                    "wa_id": phone,
                                }
                            ],
                            "messages": [
                                {
                                    "from": phone,
                                    "id": f"wamid.{run}.{i}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": f"bench {run} {i}"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(body).encode()


def measure_healthz(base_url: str, clients: int, seconds: float) -> float:
    stop = time.monotonic() + seconds
    counts = [0] * clients

    def worker(k: int) -> None:
        session = requests.Session()
        while time.monotonic() < stop:
            if session.get(f"{base_url}/healthz", timeout=10).status_code == 200:
                counts[k] += 1

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - started)


def _listen(url: str, expected: int, ready: Any, results: Any) -> None:
    """In its own process, so the posting threads' GIL never delays what the WebSocket client reads."""
    received: dict[str, float] = {}

    async def run() -> None:
        async with websockets.connect(url, max_queue=None) as ws:
            await ws.recv()
            ready.set()
            deadline = time.monotonic() + 600
            while len(received) < expected and time.monotonic() < deadline:
                try:
                    raw = await asyncio.wait_for(ws.recv(), 20)
                except TimeoutError:
                    break
                event = json.loads(raw)
                if event["type"] == "message.created":
                    received[event["data"]["text"]] = time.monotonic()  # CLOCK_MONOTONIC is system-wide

    asyncio.run(run())
    results.put(received)


def measure_ingest(base_url: str, token: str, run: str, messages: int, clients: int) -> dict:
    sent_at: dict[str, float] = {}
    ack_latencies: list[float] = []
    errors = 0
    context = multiprocessing.get_context("spawn")
    ready, results = context.Event(), context.Queue()
    url = base_url.replace("http://", "ws://") + f"/ws/messages/?token={token}"
    listener = context.Process(target=_listen, args=(url, messages, ready, results), daemon=True)
    listener.start()
    if not ready.wait(20):
        raise RuntimeError("the WebSocket did not connect")

    def post(i: int, session: requests.Session) -> None:
        nonlocal errors
        body = delivery(run, i)
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        start = time.monotonic()
        sent_at[f"bench {run} {i}"] = start
        response = session.post(
            f"{base_url}/api/webhooks/whatsapp/",
            data=body,
            timeout=30,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": signature,
            },
        )
        ack_latencies.append(time.monotonic() - start)
        if response.status_code != 200:
            errors += 1

    sessions = [requests.Session() for _ in range(clients)]
    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda i: post(i, sessions[i % clients]), range(messages)))
    acked = time.monotonic() - started
    received_at: dict[str, float] = results.get(timeout=120)
    listener.join(5)
    stored = stored_messages()
    ws_latencies = [received_at[k] - sent_at[k] for k in received_at if k in sent_at]
    return {
        "messages_posted": messages,
        "messages_stored": stored,
        "http_errors": errors,
        "stored_per_second": stored / acked,
        "ack_p50_ms": percentile(ack_latencies, 50) * 1000,
        "ack_p99_ms": percentile(ack_latencies, 99) * 1000,
        "ws_received": len(ws_latencies),
        "ws_p50_ms": percentile(ws_latencies, 50) * 1000,
        "ws_p99_ms": percentile(ws_latencies, 99) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--healthz-seconds", type=float, default=5)
    parser.add_argument("--servers", default="daphne,uvicorn")
    args = parser.parse_args()

    from tests.live.servers import running_server, server_env

    token = prepare_database()
    env = server_env(
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        SECRET_KEY=SECRET_KEY,
        META_APP_SECRET=APP_SECRET,
    )
    results = {}
    for kind in args.servers.split(","):
        reset_messages()
        with running_server(kind, env) as base_url:
            healthz = measure_healthz(base_url, args.clients, args.healthz_seconds)
            figures = measure_ingest(
                base_url,
                token,
                f"{kind}{int(time.time())}",
                args.messages,
                args.clients,
            )
        figures["healthz_rps"] = healthz
        results[kind] = figures

    print(
        f"\nIngest benchmark: {args.messages} signed WhatsApp deliveries, {args.clients} concurrent clients, "
        f"PostgreSQL + Redis, {os.cpu_count()} cores"
    )
    header = f"{'server':<9}{'healthz rps':>12}{'stored/s':>10}{'ack p50':>9}{'ack p99':>9}{'ws p50':>9}{'ws p99':>9}"
    print(header + f"{'stored':>8}{'ws got':>8}{'errors':>8}")
    for kind, r in results.items():
        print(
            f"{kind:<9}{r['healthz_rps']:>12.0f}{r['stored_per_second']:>10.1f}{r['ack_p50_ms']:>8.1f}m"
            f"{r['ack_p99_ms']:>8.1f}m{r['ws_p50_ms']:>8.1f}m{r['ws_p99_ms']:>8.1f}m"
            f"{r['messages_stored']:>8}{r['ws_received']:>8}{r['http_errors']:>8}"
        )
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "ingest.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
