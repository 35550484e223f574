"""Post a test delivery to a running server, signed as the platform would sign it.

    python manage.py send_webhook_fixture cloud__text__basic --account 3
    python manage.py send_webhook_fixture ./my-delivery.json --account 3 --url http://127.0.0.1:8000

The fixture is a file path, or the name of a fixture the project ships (`switchboard/<platform>/tests/fixtures/`,
with or without its extension). By default it is re-addressed to the account first (the Page / Instagram id, the
WhatsApp phone_number_id, the Twilio number and AccountSid, the bridge session become the account's), so it lands in
that account's inbox; `--keep-ids` posts it exactly as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from switchboard.platforms.models import PlatformAccount
from switchboard.platforms.registry import endpoint_for
from switchboard.webhooks.endpoints import adapter_for_endpoint, endpoint_path

_FIXTURE_SUFFIXES = ("", ".json", ".txt")


def find_fixture(name: str, platform: str) -> Path:
    candidate = Path(name)
    if candidate.is_file():
        return candidate
    folder = Path(settings.BASE_DIR) / "switchboard" / platform / "tests" / "fixtures"
    for suffix in _FIXTURE_SUFFIXES:
        path = folder / f"{name}{suffix}"
        if path.is_file():
            return path
    raise CommandError(f"No file {name!r} and no fixture of that name in {folder}.")


class Command(BaseCommand):
    help = "Sign a webhook fixture (or file) as the platform would and POST it to a running server."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("fixture", help="A file path or the name of a shipped fixture, e.g. cloud__text__basic.")
        parser.add_argument("--account", type=int, required=True, help="The platform account's id.")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="The server's base URL.")
        parser.add_argument("--keep-ids", action="store_true", help="Post the body unchanged (not re-addressed).")
        parser.add_argument("--timeout", type=float, default=10.0)

    def handle(self, *args: Any, **options: Any) -> None:
        account = PlatformAccount.objects.filter(pk=options["account"]).first()
        if account is None:
            raise CommandError(f"There is no platform account {options['account']}.")
        endpoint = endpoint_for(account.platform, account.provider)
        adapter: Any = adapter_for_endpoint(endpoint)
        body = find_fixture(options["fixture"], account.platform).read_bytes()
        if not options["keep_ids"]:
            try:
                body = adapter.readdress(account, body)
            except ValueError as exc:
                raise CommandError(f"The fixture is not a {endpoint} delivery: {exc}") from exc
        url = options["url"].rstrip("/") + endpoint_path(endpoint)
        try:
            headers = adapter.sign_delivery(account, body, url)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        headers["Content-Type"] = adapter.delivery_content_type
        try:
            response = requests.post(url, data=body, headers=headers, timeout=options["timeout"])
        except requests.RequestException as exc:
            raise CommandError(f"Could not reach {url}: {exc}") from exc
        self.stdout.write(f"POST {url} → {response.status_code} {response.text.strip()[:500]}")
        if response.status_code >= 400:
            raise CommandError(f"The server refused the delivery ({response.status_code}).")
