"""POST /api/messages/conversations/{id}/messages/ and /api/messages/messages/{id}/retry/: input rules, tenancy,
what is stored and broadcast at once. (What the platforms receive: test_outbound_delivery.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import client_for
from switchboard.inbox.models import Attachment, AttachmentStatus, Message, MessageKind, MessageStatus
from switchboard.inbox.payloads import ConversationSerializer
from switchboard.inbox.tests.conftest import create_attachment, create_message
from switchboard.inbox.tests.outbound_support import PSID, conversation_for, jpeg_bytes, send
from tests.fakes import Reply, cloud_sent, graph_sent

pytestmark = pytest.mark.usefixtures("celery_eager")


@pytest.fixture(autouse=True)
def vendor(fake_vendor, settings):
    settings.PUBLIC_BASE_URL = ""
    fake_vendor.on("POST", r"/v21\.0/\d+/messages", cloud_sent("wamid.ANY"))
    return fake_vendor


def url(conversation) -> str:
    return f"/api/messages/conversations/{conversation.pk}/messages/"


def test_the_message_is_stored_queued_and_broadcast_at_once(
    agent, agent_client, wa_cloud_account, django_capture_on_commit_callbacks
):
    conversation = conversation_for(wa_cloud_account)
    sent = send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "  Hello  "})
    assert sent.response.status_code == 201
    body = sent.response.json()
    assert (body["direction"], body["kind"], body["text"], body["status"]) == ("outbound", "text", "Hello", "queued")
    assert body["sent_by"] == {"id": agent.pk, "full_name": agent.full_name, "email": agent.email}
    created = sent.of("message.created")
    assert len(created) == 1 and created[0]["id"] == body["id"] and created[0]["sent_by"]["id"] == agent.pk
    conversation.refresh_from_db()
    assert conversation.last_message_preview == "Hello" and conversation.unread_count == 0
    assert sent.of("conversation.updated")[0]["id"] == conversation.pk
    assert set(sent.of("conversation.updated")[0]) == set(ConversationSerializer(conversation).data)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x", "listing_id": 1, "template": {"name": "a", "language": "en"}}, "non_field_errors"),
        ({"text": "x" * 4097}, "text"),
        ({"attachment_id": 999999}, "attachment_id"),
        ({"listing_id": 999999}, "listing_id"),
        ({"template": {"name": "hello", "components": []}}, "template"),  # Cloud needs a language
        ({"text": "x", "reply_to": 999999}, "reply_to"),
    ],
)
def test_bad_input_is_400(agent_client, wa_cloud_account, body, field, django_capture_on_commit_callbacks):
    sent = send(agent_client, django_capture_on_commit_callbacks, conversation_for(wa_cloud_account), body)
    assert sent.response.status_code == 400, sent.response.content
    assert field in sent.response.json()["errors"]
    assert not Message.objects.exists()


def test_platform_rules(agent_client, messenger_account, instagram_account, django_capture_on_commit_callbacks):
    messenger = conversation_for(messenger_account, external_id=PSID)
    template = send(agent_client, django_capture_on_commit_callbacks, messenger,
                    {"template": {"name": "x", "language": "en"}})  # fmt: skip
    assert template.response.status_code == 400 and "WhatsApp" in template.response.json()["errors"]["template"][0]
    upload = SimpleUploadedFile("a.jpg", jpeg_bytes(), content_type="image/jpeg")
    caption = send(agent_client, django_capture_on_commit_callbacks, messenger, {"file": upload, "text": "caption"},
                   format="multipart")  # fmt: skip
    assert caption.response.status_code == 400 and "caption" in caption.response.json()["errors"]["text"][0]
    instagram = conversation_for(instagram_account, external_id="17841400000000999")
    too_long = send(agent_client, django_capture_on_commit_callbacks, instagram, {"text": "x" * 1001})
    assert too_long.response.status_code == 400 and "1000" in too_long.response.json()["errors"]["text"][0]


def test_an_upload_that_is_markup_is_refused(agent_client, wa_cloud_account, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("x.jpg", b"<html><script>alert(1)</script></html>", content_type="image/jpeg")
    sent = send(agent_client, django_capture_on_commit_callbacks, conversation_for(wa_cloud_account),
                {"file": upload}, format="multipart")  # fmt: skip
    assert sent.response.status_code == 400 and "cannot be sent" in sent.response.json()["errors"]["file"][0]
    assert not Attachment.objects.exists()


def test_forwarding_a_stored_attachment_shares_its_file(
    fake_vendor, agent_client, wa_cloud_account, django_capture_on_commit_callbacks
):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    fake_vendor.on("POST", r"/v21\.0/\d+/media", Reply(200, {"id": "M1"}))
    conversation = conversation_for(wa_cloud_account)
    source = create_attachment(create_message(conversation, "", kind=MessageKind.IMAGE), status=AttachmentStatus.STORED)
    source.file.name = default_storage.save("1/2026/11/source.jpg", ContentFile(jpeg_bytes()))
    source.save()
    sent = send(agent_client, django_capture_on_commit_callbacks, conversation, {"attachment_id": source.pk})
    assert sent.response.status_code == 201, sent.response.content
    forwarded = Attachment.objects.get(message_id=sent.response.json()["id"])
    assert forwarded.file.name == source.file.name and forwarded.pk != source.pk
    assert Message.objects.get(pk=sent.response.json()["id"]).status == MessageStatus.SENT


def test_another_organizations_conversation_is_404(make_org, make_user, make_account, wa_cloud_account):
    outsider = client_for(make_user(make_org()))
    response = outsider.post(url(conversation_for(wa_cloud_account)), {"text": "hi"}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert not Message.objects.exists()


def test_unauthenticated_is_401(api_client, wa_cloud_account):
    assert api_client.post(url(conversation_for(wa_cloud_account)), {"text": "x"}, format="json").status_code == 401


def test_a_disconnected_account_cannot_send(agent_client, wa_cloud_account, django_capture_on_commit_callbacks):
    conversation = conversation_for(wa_cloud_account)
    wa_cloud_account.is_active = False
    wa_cloud_account.save()
    sent = send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "x"})
    assert sent.response.status_code == 409 and sent.response.json()["code"] == "account_disconnected"


def test_whatsapp_conversation_never_written_needs_a_template(
    agent_client, wa_cloud_account, django_capture_on_commit_callbacks
):
    conversation = conversation_for(wa_cloud_account, last_inbound=None)
    sent = send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "x"})
    assert sent.response.status_code == 409
    assert sent.response.json()["code"] == "outside_customer_service_window"


def test_exactly_24_hours_is_still_open(agent_client, wa_cloud_account, django_capture_on_commit_callbacks):
    conversation = conversation_for(wa_cloud_account, last_inbound=timedelta(hours=23, minutes=59))
    assert (
        send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "x"}).response.status_code == 201
    )


def test_retry_rules(agent_client, make_org, make_user, wa_cloud_account, django_capture_on_commit_callbacks):
    conversation = conversation_for(wa_cloud_account)
    inbound = create_message(conversation, "from the customer")
    response = agent_client.post(f"/api/messages/messages/{inbound.pk}/retry/")
    assert response.status_code == 409 and response.json()["code"] == "not_retryable"
    failed = create_message(conversation, "x", direction="outbound", status=MessageStatus.FAILED,
                            platform_message_id=None)  # fmt: skip
    outsider = client_for(make_user(make_org()))
    assert outsider.post(f"/api/messages/messages/{failed.pk}/retry/").status_code == 404
    Message.objects.filter(pk=failed.pk).update(status=MessageStatus.FAILED)
    conversation.last_inbound_at = None
    conversation.save()
    # The window applies to retries too: a free-form WhatsApp message cannot go after 24 hours.
    refused = agent_client.post(f"/api/messages/messages/{failed.pk}/retry/")
    assert refused.status_code == 409 and refused.json()["code"] == "outside_customer_service_window"


def test_messenger_send_refuses_when_the_page_never_heard_from_the_customer(
    vendor, agent_client, messenger_account, django_capture_on_commit_callbacks
):
    vendor.on("POST", r"/v21\.0/\d+/messages", graph_sent("m_1"))
    conversation = conversation_for(messenger_account, external_id=PSID, last_inbound=None)
    sent = send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "x"})
    assert sent.response.status_code == 409 and sent.response.json()["code"] == "outside_messaging_window"
