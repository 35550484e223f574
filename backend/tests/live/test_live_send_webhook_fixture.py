"""`manage.py send_webhook_fixture` against a live server: the delivery it signs is accepted and stored in the
account it names, for each kind of signature (Meta app secret, a sandbox account's own secret, Twilio, bridge)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from switchboard.inbox.models import Message
from switchboard.platforms.models import Platform, Provider
from switchboard.webhooks.testing import META_APP_SECRET
from tests.live.servers import database_url_for, running_server, server_env

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_send_webhook_fixture_signs_as_each_platform(require_postgres, make_org, make_account, settings, capsys):
    settings.META_APP_SECRET = META_APP_SECRET  # the command signs with the configured secret, like the server
    org = make_org()
    meta = make_account(org, Platform.MESSENGER, Provider.META, external_id="424242")
    sandbox = make_account(org, Platform.WHATSAPP, Provider.SANDBOX, external_id="777", webhook_secret="sandbox-s3cret")
    twilio = make_account(
        org, Platform.WHATSAPP, Provider.TWILIO, external_id="+15550001111",
        credentials={"account_sid": "AC" + "1" * 32, "auth_token": "twilio-token-of-this-account"},
    )  # fmt: skip
    bridge = make_account(org, Platform.WHATSAPP, Provider.BRIDGE, external_id="demo-phone", webhook_secret="bridge-s")
    env = server_env(DATABASE_URL=database_url_for(connection.settings_dict), META_APP_SECRET=META_APP_SECRET)
    with running_server("daphne", env) as base_url:
        for fixture, account in [
            ("messages__text", meta),
            ("cloud__text__basic.json", sandbox),
            ("twilio__text__basic", twilio),
            ("bridge__waha__message", bridge),
        ]:
            call_command("send_webhook_fixture", fixture, "--account", str(account.pk), "--url", base_url)
            assert Message.objects.filter(platform_account=account).count() == 1, fixture

            out = capsys.readouterr().out
            assert "→ 200" in out, out
        # Signed with a secret the server does not hold: the server's 403 is the command's error.
        settings.META_APP_SECRET = "not-the-servers-secret"
        with pytest.raises(CommandError, match=r"refused the delivery \(403\)"):
            call_command("send_webhook_fixture", "messages__image", "--account", str(meta.pk), "--url", base_url)
