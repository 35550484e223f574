"""No signed delivery writes into another tenant's inbox (issue 8 §1).

Tenant A uses our Meta app (the global META_APP_SECRET). Tenant B connected its own app and gave its accounts that
app's secret. B signs deliveries with its own secret and tries to slip parts for A's accounts into them: those parts
are refused and recorded, and nothing of them reaches A's inbox, conversation list or WebSocket.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from prometheus_client import REGISTRY

from switchboard.accounts.models import Role
from switchboard.inbox.models import Contact, Conversation, Direction, Message, MessageStatus
from switchboard.platforms.models import Platform, Provider
from switchboard.webhooks.models import WebhookLog, WebhookStatus
from switchboard.webhooks.testing import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN

B_SECRET = "tenant-b-own-meta-app-secret"
B_TWILIO_TOKEN = "tenant-b-twilio-auth-token"
B_TWILIO_SID = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
TIMESTAMP = 1767261600


@pytest.fixture
def tenant_a(make_org, make_user):
    org = make_org("Tenant A")
    return org, make_user(org, Role.AGENT)


@pytest.fixture
def tenant_b(make_org, make_user):
    org = make_org("Tenant B")
    return org, make_user(org, Role.OWNER)


def _account(make_account, org, platform, external_id, *, own_secret=""):
    return make_account(org, platform, Provider.META, external_id=external_id, webhook_secret=own_secret)


def _wa_change(phone_number_id: str, wamid: str, text: str) -> dict:
    return {
        "field": "messages",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": phone_number_id},
            "contacts": [{"profile": {"name": "Someone"}, "wa_id": "14155550101"}],
            "messages": [
                {
                    "from": "14155550101",
                    "id": wamid,
                    "timestamp": str(TIMESTAMP),
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        },
    }


def _wa_status_change(phone_number_id: str, wamid: str, status: str) -> dict:
    return {
        "field": "messages",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": phone_number_id},
            "statuses": [
                {"id": wamid, "status": status, "timestamp": str(TIMESTAMP + 5), "recipient_id": "14155550101"}
            ],
        },
    }


def _messaging_entry(entry_id: str, event: dict) -> dict:
    return {"id": entry_id, "time": TIMESTAMP * 1000, "messaging": [event]}


def _text_event(business_id: str, mid: str, text: str) -> dict:
    return {
        "sender": {"id": "7281946350172634"},
        "recipient": {"id": business_id},
        "timestamp": TIMESTAMP * 1000,
        "message": {"mid": mid, "text": text},
    }


def _encode(payload: dict) -> bytes:
    return json.dumps(payload).encode()


def _refused_total(platform: str) -> float:
    return REGISTRY.get_sample_value("webhook_refused_accounts_total", {"platform": platform}) or 0.0


def _assert_tenant_untouched(org, user, delivery) -> None:
    assert Message.objects.filter(organization=org).count() == 0
    assert Conversation.objects.filter(organization=org).count() == 0
    assert Contact.objects.filter(organization=org).count() == 0
    assert all(user.pk not in user_ids for user_ids, _, _ in delivery.events)


def _assert_own_part_handled(org, user, delivery, text: str) -> None:
    assert delivery.response.status_code == 200, delivery.response.content
    assert delivery.response.json() == {"status": "processed"}
    assert list(Message.objects.filter(organization=org).values_list("text", flat=True)) == [text]
    assert any(user.pk in user_ids and name == "message.created" for user_ids, name, _ in delivery.events)


# --- mixed deliveries ----------------------------------------------------------------------------------------------
def test_whatsapp_one_entry_two_changes_processes_only_the_signed_account(poster, make_account, tenant_a, tenant_b):
    (org_a, agent_a), (org_b, owner_b) = tenant_a, tenant_b
    account_a = _account(make_account, org_a, Platform.WHATSAPP, "111000111")
    account_b = _account(make_account, org_b, Platform.WHATSAPP, "222000222", own_secret=B_SECRET)
    before = _refused_total("whatsapp")
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "waba-b",
                "changes": [
                    _wa_change("222000222", "wamid.B1", "B's own message"),
                    _wa_change("111000111", "wamid.A1", "injected into A"),
                ],
            }
        ],
    }
    delivery = poster.meta("whatsapp", _encode(payload), secret=B_SECRET)

    _assert_own_part_handled(org_b, owner_b, delivery, "B's own message")
    _assert_tenant_untouched(org_a, agent_a, delivery)
    log = delivery.log
    assert log.verified_accounts == [account_b.pk]
    assert log.refused_accounts == [
        {
            "account_id": account_a.pk,
            "organization_id": org_a.pk,
            "external_id": "111000111",
            "reason": "The X-Hub-Signature-256 signature is wrong (checked against META_APP_SECRET).",
        }
    ]
    assert log.organization_id == org_b.pk and log.event_count == 1
    assert _refused_total("whatsapp") == before + 1


def test_whatsapp_two_entries_processes_only_the_signed_account(poster, make_account, tenant_a, tenant_b):
    (org_a, agent_a), (org_b, owner_b) = tenant_a, tenant_b
    _account(make_account, org_a, Platform.WHATSAPP, "111000111")
    _account(make_account, org_b, Platform.WHATSAPP, "222000222", own_secret=B_SECRET)
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "waba-b", "changes": [_wa_change("222000222", "wamid.B1", "B's own message")]},
            {"id": "waba-a", "changes": [_wa_change("111000111", "wamid.A1", "injected into A")]},
        ],
    }
    delivery = poster.meta("whatsapp", _encode(payload), secret=B_SECRET)

    _assert_own_part_handled(org_b, owner_b, delivery, "B's own message")
    _assert_tenant_untouched(org_a, agent_a, delivery)


@pytest.mark.parametrize(
    ("endpoint", "platform", "obj"),
    [("messenger", Platform.MESSENGER, "page"), ("instagram", Platform.INSTAGRAM, "instagram")],
)
def test_meta_messaging_two_entries_processes_only_the_signed_account(
    poster, make_account, tenant_a, tenant_b, endpoint, platform, obj
):
    (org_a, agent_a), (org_b, owner_b) = tenant_a, tenant_b
    account_a = _account(make_account, org_a, platform, "3330003330")
    _account(make_account, org_b, platform, "4440004440", own_secret=B_SECRET)
    payload = {
        "object": obj,
        "entry": [
            _messaging_entry("4440004440", _text_event("4440004440", "m_B1", "B's own message")),
            _messaging_entry("3330003330", _text_event("3330003330", "m_A1", "injected into A")),
        ],
    }
    delivery = poster.meta(endpoint, _encode(payload), secret=B_SECRET)

    _assert_own_part_handled(org_b, owner_b, delivery, "B's own message")
    _assert_tenant_untouched(org_a, agent_a, delivery)
    assert [r["account_id"] for r in delivery.log.refused_accounts] == [account_a.pk]


def test_a_delivery_only_for_another_tenant_is_refused(poster, make_account, tenant_a, tenant_b):
    (org_a, agent_a), (org_b, _) = tenant_a, tenant_b
    _account(make_account, org_a, Platform.WHATSAPP, "111000111")
    _account(make_account, org_b, Platform.WHATSAPP, "222000222", own_secret=B_SECRET)
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "waba-a", "changes": [_wa_change("111000111", "wamid.A1", "injected into A")]}],
    }
    delivery = poster.meta("whatsapp", _encode(payload), secret=B_SECRET)

    assert delivery.response.status_code == 403
    assert delivery.response.json()["code"] == "invalid_signature"
    assert delivery.log.status == WebhookStatus.REJECTED
    _assert_tenant_untouched(org_a, agent_a, delivery)


def test_an_account_with_its_own_secret_refuses_the_global_one(poster, make_account, tenant_b):
    org_b, _ = tenant_b
    _account(make_account, org_b, Platform.MESSENGER, "4440004440", own_secret=B_SECRET)
    payload = {
        "object": "page",
        "entry": [_messaging_entry("4440004440", _text_event("4440004440", "m_B1", "signed by our app"))],
    }
    delivery = poster.meta("messenger", _encode(payload))  # META_APP_SECRET

    assert delivery.response.status_code == 403
    assert "own app secret" in delivery.response.json()["detail"]
    assert Message.objects.count() == 0


def test_an_account_without_its_own_secret_accepts_the_global_one(poster, make_account, tenant_a):
    org_a, agent_a = tenant_a
    _account(make_account, org_a, Platform.MESSENGER, "3330003330")
    payload = {
        "object": "page",
        "entry": [_messaging_entry("3330003330", _text_event("3330003330", "m_A1", "signed by our app"))],
    }
    delivery = poster.meta("messenger", _encode(payload))

    _assert_own_part_handled(org_a, agent_a, delivery, "signed by our app")
    assert delivery.log.refused_accounts == []


def test_two_tenants_on_our_app_are_both_processed(poster, make_account, tenant_a, make_org, make_user):
    """Meta batches entries of every page of one app: when the signature proves every account, all are handled."""
    org_a, agent_a = tenant_a
    org_c = make_org("Tenant C")
    agent_c = make_user(org_c, Role.AGENT)
    _account(make_account, org_a, Platform.MESSENGER, "3330003330")
    _account(make_account, org_c, Platform.MESSENGER, "5550005550")
    payload = {
        "object": "page",
        "entry": [
            _messaging_entry("3330003330", _text_event("3330003330", "m_A1", "for A")),
            _messaging_entry("5550005550", _text_event("5550005550", "m_C1", "for C")),
        ],
    }
    delivery = poster.meta("messenger", _encode(payload))

    assert delivery.response.status_code == 200
    assert list(Message.objects.filter(organization=org_a).values_list("text", flat=True)) == ["for A"]
    assert list(Message.objects.filter(organization=org_c).values_list("text", flat=True)) == ["for C"]
    assert {name for ids, name, _ in delivery.events if agent_c.pk in ids} >= {"message.created"}
    assert {name for ids, name, _ in delivery.events if agent_a.pk in ids} >= {"message.created"}


# --- one check never guards another tenant's rows --------------------------------------------------------------------
def _sent_message(account, platform_message_id: str, status: str = MessageStatus.SENT) -> Message:
    contact = Contact.objects.create(
        organization=account.organization,
        platform_account=account,
        platform=account.platform,
        external_id="14155550101",
        phone_number="+14155550101",
    )
    conversation = Conversation.objects.create(
        organization=account.organization,
        platform_account=account,
        platform=account.platform,
        contact=contact,
        last_message_at=datetime.fromtimestamp(TIMESTAMP, UTC),
    )
    return Message.objects.create(
        organization=account.organization,
        conversation=conversation,
        platform_account=account,
        direction=Direction.OUTBOUND,
        text="A's sent message",
        platform_message_id=platform_message_id,
        status=status,
        timestamp=datetime.fromtimestamp(TIMESTAMP, UTC),
    )


def test_a_signed_status_naming_another_tenants_wamid_changes_nothing(poster, make_account, tenant_a, tenant_b):
    (org_a, agent_a), (org_b, _) = tenant_a, tenant_b
    account_a = _account(make_account, org_a, Platform.WHATSAPP, "111000111")
    _account(make_account, org_b, Platform.WHATSAPP, "222000222", own_secret=B_SECRET)
    target = _sent_message(account_a, "wamid.A-SENT")
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "waba-b", "changes": [_wa_status_change("222000222", "wamid.A-SENT", "failed")]}],
    }
    delivery = poster.meta("whatsapp", _encode(payload), secret=B_SECRET)

    assert delivery.response.status_code == 200
    assert delivery.log.status == WebhookStatus.IGNORED
    target.refresh_from_db()
    assert target.status == MessageStatus.SENT and target.error_code == ""
    assert all(agent_a.pk not in ids for ids, _, _ in delivery.events)


@pytest.mark.parametrize(
    ("endpoint", "platform", "obj", "event_body"),
    [
        (
            "messenger",
            Platform.MESSENGER,
            "page",
            {"reaction": {"reaction": "love", "emoji": "\u2764\ufe0f", "action": "react", "mid": "m_A-TARGET"}},
        ),
        ("instagram", Platform.INSTAGRAM, "instagram", {"message": {"mid": "m_A-TARGET", "is_deleted": True}}),
        ("messenger", Platform.MESSENGER, "page", {"read": {"watermark": (TIMESTAMP + 60) * 1000}}),
    ],
    ids=["reaction", "deletion", "read-watermark"],
)
def test_signed_events_naming_another_tenants_message_change_nothing(
    poster, make_account, tenant_a, tenant_b, endpoint, platform, obj, event_body
):
    (org_a, agent_a), (org_b, _) = tenant_a, tenant_b
    account_a = _account(make_account, org_a, platform, "3330003330")
    _account(make_account, org_b, platform, "4440004440", own_secret=B_SECRET)
    target = _sent_message(account_a, "m_A-TARGET")
    target.conversation.contact.external_id = "7281946350172634"  # the same customer writes to both businesses
    target.conversation.contact.save()
    event = {
        "sender": {"id": "7281946350172634"},
        "recipient": {"id": "4440004440"},
        "timestamp": (TIMESTAMP + 30) * 1000,
        **event_body,
    }
    payload = {"object": obj, "entry": [_messaging_entry("4440004440", event)]}
    delivery = poster.meta(endpoint, _encode(payload), secret=B_SECRET)

    assert delivery.response.status_code == 200, delivery.response.content
    target.refresh_from_db()
    assert (target.reactions, target.is_deleted, target.text, target.status) == (
        [],
        False,
        "A's sent message",
        MessageStatus.SENT,
    )
    assert all(agent_a.pk not in ids for ids, _, _ in delivery.events)
    assert Message.objects.filter(organization=org_b).count() == 0


def test_a_signed_twilio_status_naming_another_tenants_sid_changes_nothing(poster, make_account, tenant_a, tenant_b):
    (org_a, agent_a), (org_b, _) = tenant_a, tenant_b
    account_a = make_account(
        org_a,
        Platform.WHATSAPP,
        Provider.TWILIO,
        external_id="+14155238886",
        credentials={"account_sid": TWILIO_ACCOUNT_SID, "auth_token": TWILIO_AUTH_TOKEN},
    )
    make_account(
        org_b,
        Platform.WHATSAPP,
        Provider.TWILIO,
        external_id="+14155230000",
        credentials={"account_sid": B_TWILIO_SID, "auth_token": B_TWILIO_TOKEN},
    )
    target = _sent_message(account_a, "SMa0000000000000000000000000000001")
    form = urlencode(
        {
            "MessageSid": "SMa0000000000000000000000000000001",
            "MessageStatus": "undelivered",
            "ErrorCode": "63016",
            "AccountSid": B_TWILIO_SID,
            "From": "whatsapp:+14155230000",
            "To": "whatsapp:+14155550101",
        }
    ).encode()
    delivery = poster.twilio(form, auth_token=B_TWILIO_TOKEN)

    assert delivery.response.status_code == 200
    assert delivery.log.organization_id == org_b.pk and delivery.log.status == WebhookStatus.IGNORED
    target.refresh_from_db()
    assert target.status == MessageStatus.SENT and target.error_code == ""
    assert all(agent_a.pk not in ids for ids, _, _ in delivery.events)


def test_a_bridge_callback_for_another_session_with_our_secret_is_refused(poster, make_account, tenant_a, tenant_b):
    (org_a, agent_a), (org_b, _) = tenant_a, tenant_b
    make_account(org_a, Platform.WHATSAPP, Provider.BRIDGE, external_id="session-a", webhook_secret="secret-of-a")
    make_account(org_b, Platform.WHATSAPP, Provider.BRIDGE, external_id="session-b", webhook_secret="secret-of-b")
    callback = {
        "event": "message",
        "session": "session-a",
        "payload": {
            "id": "false_14155550101@c.us_3EB0AAAA",
            "timestamp": TIMESTAMP,
            "from": "14155550101@c.us",
            "fromMe": False,
            "body": "injected into A",
        },
    }
    delivery = poster.bridge(_encode(callback), secret="secret-of-b")

    assert delivery.response.status_code == 403
    _assert_tenant_untouched(org_a, agent_a, delivery)


# --- replay re-checks as the first pass did ---------------------------------------------------------------------------
def test_replay_never_processes_refused_parts(poster, make_account, tenant_a, tenant_b):
    (org_a, _), (org_b, _) = tenant_a, tenant_b
    _account(make_account, org_a, Platform.WHATSAPP, "111000111")
    account_b = _account(make_account, org_b, Platform.WHATSAPP, "222000222", own_secret=B_SECRET)
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "waba-b",
                "changes": [
                    _wa_change("222000222", "wamid.B1", "B's own message"),
                    _wa_change("111000111", "wamid.A1", "injected into A"),
                ],
            }
        ],
    }
    delivery = poster.meta("whatsapp", _encode(payload), secret=B_SECRET)
    Message.objects.all().delete()
    WebhookLog.objects.filter(pk=delivery.log.pk).update(status=WebhookStatus.FAILED)

    call_command("replay_webhooks", "--id", str(delivery.log.pk))

    assert list(Message.objects.values_list("organization_id", "text")) == [(org_b.pk, "B's own message")]
    assert WebhookLog.objects.get(pk=delivery.log.pk).verified_accounts == [account_b.pk]


def test_replay_of_a_delivery_no_account_was_proven_for_processes_nothing(make_account, tenant_a, webhook_settings):
    """A pending row without proven accounts (e.g. stored before routing broke) never becomes a way in."""
    org_a, _ = tenant_a
    _account(make_account, org_a, Platform.WHATSAPP, "111000111")
    body = _encode(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "waba-a", "changes": [_wa_change("111000111", "wamid.A1", "never checked")]}],
        }
    )
    log = WebhookLog.objects.create(
        platform="whatsapp",
        method="POST",
        path="/api/webhooks/whatsapp/",
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": "[signature, 71 chars]"},
        body=body.decode(),
        status=WebhookStatus.PENDING,
    )

    call_command("replay_webhooks", "--status", "pending", "--id", str(log.pk))

    assert Message.objects.count() == 0
    assert WebhookLog.objects.get(pk=log.pk).status == WebhookStatus.IGNORED
