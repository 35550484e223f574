"""`make fuzz`: every operation of /api/schema/ against a real server, with schemathesis.

    python -m tests.fuzz            # from backend/; what `make fuzz` runs
    python -m tests.fuzz --max-examples 5 --include-path-regex '^/api/listings/'

1. A database of its own, new for every run: PostgreSQL database `fuzz` on the server of DATABASE_URL (CI; never
   the test database), or a temporary SQLite file (locally). Redis, when REDIS_URL is set, on database 9 (flushed).
2. `migrate`, then a seeded tenant (`seed`, below): an owner — the fuzzing identity —, an admin and an agent, three
   connected accounts, conversations with messages and a stored attachment, listings with images and contact links;
   and a second tenant whose ids answer 404. Half of the path ids are drawn from the seeded rows
   (`write_config`), so operations on one object reach their code, not only its 404.
3. daphne serving `config.asgi:application` with production settings (DEBUG=false) on a free loopback port;
   nothing it does leaves the machine (vendors at a closed loopback port, the AI assistant allowed 127.0.0.1 only).
4. `st run` over every operation: deterministic generation (the same cases every run), a bounded number of
   examples per operation; it fails on a 5xx, a status code the schema does not declare, a body that does not match
   the declared schema, and a Content-Type other than the declared one (an HTML page included); this script also
   fails when the server logged a traceback.

Nothing is excluded today, because no operation can end the fuzzing identity: it holds an access token only, so
`logout` and `token/refresh` never see a valid refresh token of it; it is the organization's only owner, so removing
or demoting its own membership answers 409. EXCLUDED below is where an operation that could (deleting one's own
account, leaving the organization) must go, with the reason — or it gets an identity of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BACKEND_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

MAX_EXAMPLES = 20
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "response_schema_conformance",
        "content_type_conformance",
    ]
)
# (operation id, why) — operations that would end the fuzzing identity; none today (see the module docstring).
EXCLUDED: list[tuple[str, str]] = []

OWNER_EMAIL = "fuzz-owner@example.com"


# --- the run ----------------------------------------------------------------------------------------------------


def _database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _recreate_postgres_database(url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    admin_url = _database_url(url, "postgres")
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as connection:
        # WITH (FORCE): a server left over from an interrupted run must not keep the database.
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def _redis_url(base: str) -> str:
    return urlunsplit(urlsplit(base)._replace(path="/9"))


def fuzz_environment(workdir: Path) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith(("postgres://", "postgresql://")):
        env["DATABASE_URL"] = os.environ.get("FUZZ_DATABASE_URL") or _database_url(database_url, "fuzz")
    else:
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(workdir / "fuzz.sqlite3")
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ.get("FUZZ_REDIS_URL") or _redis_url(os.environ["REDIS_URL"])
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            # Production settings, over plain HTTP on loopback, with keys of this run only.
            "DEBUG": "false",
            "SECRET_KEY": f"fuzz-{os.getpid()}-{time.time_ns()}-a-long-random-secret-key-for-this-run",
            "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SERVE_STATIC": "false",
            "LOG_LEVEL": "WARNING",
            "JWT_ACCESS_MINUTES": "120",
            "MEDIA_ROOT": str(workdir / "media"),
            # Nothing leaves the machine: vendors are a closed loopback port, media is never fetched, and a send
            # run in-process fails at once instead of waiting for retries.
            "GRAPH_API_BASE": "http://127.0.0.1:9",
            "TWILIO_API_BASE": "http://127.0.0.1:9",
            "MEDIA_AUTO_DOWNLOAD": "false",
            "SEND_EAGER_RETRY_MAX_WAIT_SECONDS": "0",
            # The AI assistant calls only this machine (assistant/providers/guard.py): a fuzzed base_url elsewhere,
            # or a blank one (the vendors' public hosts), is refused before any lookup; no answer is awaited past 5 s.
            "AI_ALLOWED_HOSTS": "127.0.0.1",
            "AI_ALLOW_PRIVATE_BASE_URL": "true",
            "AI_REQUEST_TIMEOUT_SECONDS": "5",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
    )
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=BACKEND_DIR, env=env, check=True)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_healthy(base_url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the fuzz server exited with {process.returncode}")
        try:
            if requests.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base_url} did not become healthy in {timeout:.0f} s")


def write_config(workdir: Path, identity: dict[str, object]) -> None:
    """schemathesis.toml in the run's directory (where `st` runs): half of the path ids and listing file names are
    drawn from the seeded tenant's rows (ids 1-3 are its own: a listing, its image and contact link, conversations,
    messages, accounts, members), the other half generated (mostly ids of nothing, or of the other tenant)."""
    filenames = ", ".join(json.dumps(name) for name in identity["filenames"])  # type: ignore[union-attr]
    bindings = "\n".join(
        f'"path.{name}" = {{ dictionary = "{dictionary}", probability = 0.5 }}'
        for name, dictionary in [("id", "ids"), ("image_id", "ids"), ("link_id", "ids"), ("filename", "files")]
    )
    (workdir / "schemathesis.toml").write_text(
        f"[dictionaries]\nids = {{ values = [1, 2, 3] }}\nfiles = {{ values = [{filenames}] }}\n\n"
        f"[parameters]\n{bindings}\n"
    )


def _summary(report_dir: Path) -> dict[str, int]:
    """Operations and cases of the run, from schemathesis's NDJSON event stream."""
    operations: set[str] = set()
    cases = 0
    for path in report_dir.glob("*.ndjson"):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            for name, body in event.items():
                if name == "ScenarioFinished" and isinstance(body, dict):
                    label = body.get("label") or (body.get("recorder") or {}).get("label")
                    if label:
                        operations.add(label)
                    recorder = body.get("recorder") or {}
                    cases += len(recorder.get("cases") or {})
    return {"operations": len(operations), "cases": cases}


def run(extra_args: list[str], max_examples: int, workers: str, keep: bool = False) -> int:
    if os.environ.get("CI") == "true" and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("fuzz: CI=true needs DATABASE_URL pointing at PostgreSQL (the Makefile exports it)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="switchboard-fuzz-"))
    env = fuzz_environment(workdir)
    target = env.get("DATABASE_URL") or env["SQLITE_PATH"]
    print(f"fuzz: database {target}, redis {env.get('REDIS_URL') or 'none (in-memory layers)'}", flush=True)
    if env.get("DATABASE_URL"):
        _recreate_postgres_database(env["DATABASE_URL"])
    if env.get("REDIS_URL"):
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    started = time.monotonic()
    _manage(env, "migrate", "--noinput", "-v", "0")
    seeded = subprocess.run(
        [str(BIN / "python"), "-m", "tests.fuzz", "seed"],
        cwd=BACKEND_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    identity = json.loads(seeded.stdout.strip().splitlines()[-1])
    print(f"fuzz: seeded tenant {identity['organization']} (fuzzing as {OWNER_EMAIL}, owner)", flush=True)
    write_config(workdir, identity)

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = (workdir / "server.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=BACKEND_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    report_dir = workdir / "report"
    try:
        _wait_until_healthy(base_url, server)
        command = [
            str(BIN / "st"),
            "run",
            f"{base_url}/api/schema/",
            "--header",
            f"Authorization: Bearer {identity['access']}",
            "--checks",
            CHECKS,
            "--max-examples",
            str(max_examples),
            # Hypothesis' derandomized mode: a fixed seed per operation, so every run sends the same cases.
            "--generation-deterministic",
            "--phases",
            "examples,coverage,fuzzing",
            "--workers",
            workers,
            "--request-timeout",
            "30",
            "--continue-on-failure",
            "--suppress-health-check",
            "all",
            "--report",
            "ndjson",
            "--report-dir",
            str(report_dir),
            "--no-color",
        ]
        for operation_id, _why in EXCLUDED:
            command += ["--exclude-operation-id", operation_id]
        command += extra_args
        print("fuzz: " + " ".join(command).replace(identity["access"], "<access token>"), flush=True)
        # In the run's directory: schemathesis keeps a `.schemathesis/` folder in its working directory.
        result = subprocess.run(command, cwd=workdir, env=env)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    elapsed = time.monotonic() - started
    figures = _summary(report_dir)
    server_errors = [line for line in (workdir / "server.log").read_text().splitlines() if "Traceback" in line]
    print(
        f"fuzz: {figures['operations']} operations, {figures['cases']} cases, {elapsed:.0f} s, "
        f"deterministic, at most {max_examples} examples per operation and phase; "
        f"server tracebacks: {len(server_errors)}; exit {result.returncode}",
        flush=True,
    )
    if result.returncode != 0 or server_errors or keep:
        print(f"fuzz: server log and reports kept in {workdir}", flush=True)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return result.returncode or (1 if server_errors else 0)


# --- the seeded tenant -----------------------------------------------------------------------------------------


def seed() -> dict[str, object]:
    """Runs inside Django (the fuzz environment): the rows the operations act on. Printed as JSON."""
    import django

    django.setup()
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import RefreshToken

    from switchboard.accounts.models import Membership, Organization, Role, User
    from switchboard.inbox.events import ContactProfile, InboundMessage
    from switchboard.inbox.models import Attachment, AttachmentStatus, Message
    from switchboard.inbox.services.ingest import handle_events
    from switchboard.listings import services as listings
    from switchboard.listings.models import Listing
    from switchboard.platforms.models import Platform, PlatformAccount, Provider

    def tenant(slug: str, owner_email: str, external_prefix: str) -> tuple[Organization, User, list[PlatformAccount]]:
        organization = Organization.objects.create(name=f"Agency {slug}", slug=slug)
        owner = User.objects.create_user(owner_email, "fuzz-password-not-used", full_name=f"Owner of {slug}")
        Membership.objects.create(user=owner, organization=organization, role=Role.OWNER)
        accounts = [
            PlatformAccount.objects.create(
                organization=organization,
                platform=platform,
                provider=Provider.META,
                display_name=f"{platform} of {slug}",
                external_id=f"{external_prefix}{index}",
                credentials={"access_token": f"token-{slug}-{index}"},
            )
            for index, platform in enumerate((Platform.WHATSAPP, Platform.MESSENGER, Platform.INSTAGRAM), start=1)
        ]
        now = timezone.now()
        for account in accounts:
            handle_events(
                account,
                [
                    InboundMessage(
                        platform_message_id=f"{account.external_id}-m{n}",
                        contact=ContactProfile(f"1415555{account.pk:03d}{n % 3}", name=f"Contact {n % 3}"),
                        timestamp=now - timedelta(minutes=10 * n),
                        text=f"Message {n} about Property 39",
                    )
                    for n in range(1, 7)
                ],
            )
        listing = listings.listing_create(
            organization=organization, by=owner, data={"title": f"Flat of {slug}", "reference": "39"}
        )
        listings.listing_image_upload(
            organization=organization,
            listing=listing,
            by=owner,
            file=SimpleUploadedFile("front.jpg", _jpeg(), content_type="image/jpeg"),
            caption="Front",
        )
        message = Message.objects.filter(organization=organization).order_by("id").first()
        listings.contact_index_link(
            organization=organization, listing=listing, by=owner, contact=message.conversation.contact, phone_number=""
        )
        name = default_storage.save(f"{organization.pk}/fuzz/{'a' * 32}.jpg", ContentFile(_jpeg()))
        Attachment.objects.create(
            organization=organization,
            message=message,
            status=AttachmentStatus.STORED,
            kind="image",
            mime_type="image/jpeg",
            file=name,
            filename="photo.jpg",
            size=default_storage.size(name),
        )
        Listing.objects.filter(pk=listing.pk).update(description="Two bedrooms, balcony.")
        return organization, owner, accounts

    organization, owner, _ = tenant("fuzz-agency", OWNER_EMAIL, "1065403522")
    for role in (Role.ADMIN, Role.AGENT):
        member = User.objects.create_user(f"fuzz-{role}@example.com", "fuzz-password-not-used", full_name=role)
        Membership.objects.create(user=member, organization=organization, role=role)
    tenant("other-agency", "other-owner@example.com", "2065403522")  # its ids answer 404 to the fuzzing identity
    from switchboard.listings.models import ListingImage

    image = ListingImage.objects.filter(organization=organization).order_by("id").first()
    return {
        "organization": organization.slug,
        "access": str(RefreshToken.for_user(owner).access_token),
        "filenames": [image.file.name.rsplit("/", 1)[-1], image.thumbnail.name.rsplit("/", 1)[-1]],
    }


def _jpeg() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def main() -> int:
    if sys.argv[1:2] == ["seed"]:
        print(json.dumps(seed()))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("FUZZ_MAX_EXAMPLES", MAX_EXAMPLES)))
    parser.add_argument("--workers", default=os.environ.get("FUZZ_WORKERS", "2"))
    parser.add_argument("--keep", action="store_true", help="keep the server log and reports of a green run too")
    known, extra = parser.parse_known_args()
    return run(extra, known.max_examples, known.workers, keep=known.keep)


if __name__ == "__main__":
    sys.exit(main())
