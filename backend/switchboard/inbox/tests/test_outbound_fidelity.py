"""Outbound fidelity, round two (issue 14), against the fake vendor on 127.0.0.1 (tests/fakes/vendor.py): Graph's
Retry-After is honoured; the conversation says what may be sent now (`sendable`, `message_tag`) and the send
endpoint agrees; the message and attachment JSON show the media id, the file's source and the quoted message's
platform id; a listing card goes in the format chosen (WhatsApp Cloud `interactive`) with every photo."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from switchboard.inbox.models import Attachment, Conversation, Message
from switchboard.inbox.services import sending
from switchboard.inbox.tasks.sending import send_message_task
from switchboard.inbox.tests.conftest import create_attachment, create_message
from switchboard.inbox.tests.outbound_support import IGSID, PSID, WA_CUSTOMER, conversation_for, jpeg_bytes, send
from switchboard.webhooks.testing import captured_broadcasts
from tests.fakes import Reply, cloud_sent, graph_error, twilio_created

pytestmark = pytest.mark.usefixtures("celery_eager")

CLOUD_MESSAGES = r"/v21\.0/106540352242922/messages"


@pytest.fixture(autouse=True)
def _no_public_base(settings):
    settings.PUBLIC_BASE_URL = ""


# --- Graph's Retry-After ----------------------------------------------------------------------------------------------
def test_a_graph_429_with_retry_after_3_is_retried_after_3_seconds_by_a_worker(fake_vendor, wa_cloud_account, agent,
                                                                               settings):  # fmt: skip
    settings.SEND_RETRY_BACKOFF_SECONDS = 1  # our own backoff would say 1 s
    fake_vendor.on("POST", CLOUD_MESSAGES, graph_error(130429, "Rate limit hit", status=429,
                                                       headers={"Retry-After": "3"}))  # fmt: skip
    conversation = conversation_for(wa_cloud_account)
    message = sending.message_send(organization=conversation.organization_id, conversation=conversation, by=agent,
                                    text="hi")  # fmt: skip
    with mock.patch.object(send_message_task, "retry", side_effect=Retry()) as retry, pytest.raises(Retry):
        send_message_task.run(message.pk, attempt=1)
    assert retry.call_args.kwargs["countdown"] == 3
    message.refresh_from_db()
    assert message.status == "queued" and "Trying again in 3 s" in message.error_message


def test_the_next_attempt_really_waits_the_retry_after(fake_vendor, agent_client, wa_cloud_account,
                                                       django_capture_on_commit_callbacks, settings):  # fmt: skip
    settings.SEND_RETRY_BACKOFF_SECONDS = 0.01
    fake_vendor.on("POST", CLOUD_MESSAGES, graph_error(130429, status=429, headers={"Retry-After": "1"}),
                   cloud_sent("wamid.AFTER"))  # fmt: skip
    sent = send(agent_client, django_capture_on_commit_callbacks, conversation_for(wa_cloud_account), {"text": "hi"})
    message = Message.objects.get(pk=sent.response.json()["id"])
    assert (message.status, message.platform_message_id) == ("sent", "wamid.AFTER")
    first, second = fake_vendor.requests("POST", CLOUD_MESSAGES)
    assert second.at - first.at >= 1.0  # not 0.01 s: the vendor said 1 s


def test_retry_after_is_read_from_any_graph_answer(fake_vendor, wa_cloud_account, agent, settings):
    """Also without Meta's envelope (a proxy's 503 page), and never below our own backoff."""
    settings.SEND_RETRY_BACKOFF_SECONDS = 4
    fake_vendor.on("POST", CLOUD_MESSAGES, Reply(503, "<html>Service Unavailable</html>", {"Retry-After": "2"}))
    conversation = conversation_for(wa_cloud_account)
    message = sending.message_send(organization=conversation.organization_id, conversation=conversation, by=agent,
                                    text="hi")  # fmt: skip
    with mock.patch.object(send_message_task, "retry", side_effect=Retry()) as retry, pytest.raises(Retry):
        send_message_task.run(message.pk, attempt=1)
    assert retry.call_args.kwargs["countdown"] == 4  # the longer of the two


# --- the reply window, visible before sending ------------------------------------------------------------------------
def _content(kind: str, account, listing) -> tuple[dict, str | None]:
    if kind == "text":
        return {"text": "Hello"}, None
    if kind == "media":
        return {"file": SimpleUploadedFile("flat.jpg", jpeg_bytes(), content_type="image/jpeg")}, "multipart"
    if kind == "listing_card":
        return {"listing_id": listing.pk}, None
    name = "HXb5b62575e6e4ff6129ad7c8efe1f983e" if account.provider == "twilio" else "viewing_follow_up"
    return {"template": {"name": name, "language": "en_US", "components": []}}, None


@pytest.mark.parametrize(
    ("account_fixture", "external_id", "wrote_ago"),
    [
        ("wa_cloud_account", WA_CUSTOMER, timedelta(hours=2)),
        ("wa_cloud_account", WA_CUSTOMER, timedelta(hours=30)),
        ("twilio_account", WA_CUSTOMER, timedelta(days=2)),
        ("messenger_account", PSID, timedelta(hours=2)),
        ("messenger_account", PSID, timedelta(days=3)),
        ("instagram_account", IGSID, timedelta(days=9)),
    ],
)
def test_what_sendable_lists_is_exactly_what_the_send_endpoint_accepts(
    request, fake_vendor, org, agent_client, django_capture_on_commit_callbacks, account_fixture, external_id, wrote_ago
):
    from switchboard.listings.models import Listing

    account = request.getfixturevalue(account_fixture)
    listing = Listing.objects.create(organization=org, reference="39", title="Sea view flat", location="Cádiz")
    accepted = Reply(200, {"message_id": "m_OUT", "recipient_id": external_id, "messages": [{"id": "wamid.OUT"}]})
    fake_vendor.on("POST", r"/v21\.0/[^/]+/messages", accepted)
    fake_vendor.on("POST", r"/v21\.0/[^/]+/media", Reply(200, {"id": "MEDIA-1"}))
    fake_vendor.on("POST", r"/2010-04-01/Accounts/[^/]+/Messages\.json", twilio_created("SM1"))
    conversation = conversation_for(account, external_id=external_id, last_inbound=wrote_ago)
    shown = agent_client.get(f"/api/messages/conversations/{conversation.pk}/").json()

    answers = {}
    for kind in ["text", "media", "listing_card", "template"]:
        body, form = _content(kind, account, listing)
        sent = send(agent_client, django_capture_on_commit_callbacks, conversation, body, format=form)
        answers[kind] = sent.response.status_code
    assert [kind for kind, status in answers.items() if status == 201] == shown["sendable"], answers
    assert all(status in (400, 409) for kind, status in answers.items() if kind not in shown["sendable"]), answers
    tagged = [r.json.get("tag") for r in fake_vendor.requests("POST", r"/v21\.0/[^/]+/messages") if r.json]
    if account.platform != "whatsapp" and shown["sendable"]:
        # What went out carries the tag the conversation said: HUMAN_AGENT between 24 hours and 7 days, else none.
        assert tagged and set(tagged) == {shown["message_tag"]}


# --- what the message and attachment JSON show ------------------------------------------------------------------------
FIXTURES = Path(__file__).resolve().parents[2]


def _fixture(platform: str, name: str) -> bytes:
    return (FIXTURES / platform / "tests" / "fixtures" / name).read_bytes()


def _messages_of(client, account) -> list[dict]:
    conversation = Conversation.objects.get(platform_account=account)
    response = client.get("/api/messages/messages/", {"conversation": conversation.pk})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_a_whatsapp_photo_shows_its_media_id_and_source(poster, agent_client, wa_cloud_account):
    assert poster.meta("whatsapp", _fixture("whatsapp", "cloud__image__caption.json")).response.status_code == 200
    [message] = _messages_of(agent_client, wa_cloud_account)
    [attachment] = message["attachments"]
    assert (attachment["media_id"], attachment["source_kind"]) == ("1479537139650973", "platform_media_id")
    assert (message["reply_to"], message["reply_to_platform_id"]) == (None, None)


def test_a_messenger_photo_says_url_and_never_shows_the_cdn_link(poster, agent_client, messenger_account):
    body = _fixture("messenger", "messages__image.json")
    cdn_link = json.loads(body)["entry"][0]["messaging"][0]["message"]["attachments"][0]["payload"]["url"]
    assert poster.meta("messenger", body).response.status_code == 200
    response = agent_client.get("/api/messages/messages/", {"conversation": Conversation.objects.get().pk})
    [attachment] = response.json()["results"][0]["attachments"]
    assert (attachment["media_id"], attachment["source_kind"]) == (None, "url")
    assert Attachment.objects.get().source_url == cdn_link  # kept to download it …
    assert cdn_link not in response.content.decode()  # … never shown (signed for the Page, short-lived)


def test_a_reply_to_a_message_we_never_stored_shows_its_platform_id(poster, agent_client, messenger_account):
    assert poster.meta("messenger", _fixture("messenger", "messages__reply_to.json")).response.status_code == 200
    [message] = _messages_of(agent_client, messenger_account)
    assert (message["reply_to"], message["reply_to_platform_id"]) == (None, "m_OurProposal0001")


def test_a_reply_to_a_stored_message_shows_both(poster, agent_client, messenger_account):
    conversation = conversation_for(messenger_account, external_id=PSID)
    ours = create_message(
        conversation, "Saturday at 10?", direction="outbound", platform_message_id="m_OurProposal0001"
    )
    assert poster.meta("messenger", _fixture("messenger", "messages__reply_to.json")).response.status_code == 200
    reply = next(m for m in _messages_of(agent_client, messenger_account) if m["id"] != ours.pk)
    assert (reply["reply_to"], reply["reply_to_platform_id"]) == (ours.pk, "m_OurProposal0001")


def test_an_agents_upload_and_its_forwarded_copy(fake_vendor, agent_client, wa_cloud_account,
                                                 django_capture_on_commit_callbacks):  # fmt: skip
    fake_vendor.on("POST", r"/v21\.0/106540352242922/media", Reply(200, {"id": "MEDIA-77"}))
    fake_vendor.on("POST", CLOUD_MESSAGES, cloud_sent("wamid.IMG1"), cloud_sent("wamid.IMG2"))
    conversation = conversation_for(wa_cloud_account)
    upload = SimpleUploadedFile("flat.jpg", jpeg_bytes(), content_type="image/jpeg")
    first = send(agent_client, django_capture_on_commit_callbacks, conversation, {"file": upload}, format="multipart")
    [uploaded] = first.response.json()["attachments"]
    again = send(agent_client, django_capture_on_commit_callbacks, conversation, {"attachment_id": uploaded["id"]})
    [forwarded] = again.response.json()["attachments"]
    assert (uploaded["source_kind"], uploaded["media_id"]) == ("upload", None)
    assert (forwarded["source_kind"], forwarded["media_id"]) == ("forwarded", None)
    assert again.response.json()["payload"] == {"forwarded_attachment_id": uploaded["id"]}
    assert [r.json["image"]["id"] for r in fake_vendor.requests("POST", CLOUD_MESSAGES)] == ["MEDIA-77", "MEDIA-77"]
    # The broadcast carries the same JSON as the answer.
    assert again.of("message.created")[0]["attachments"][0]["source_kind"] == "forwarded"


def test_the_attachment_json_costs_no_query_per_attachment(agent_client, wa_cloud_account):
    """`source` reads the attachment's message, which the prefetch already holds: as many queries for five as one."""
    conversation = conversation_for(wa_cloud_account)
    url = "/api/messages/messages/"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = agent_client.get(url, {"conversation": conversation.pk})
        assert {a["source_kind"] for m in response.json()["results"] for a in m["attachments"]} == {"platform_media_id"}
        return len(captured)

    create_attachment(create_message(conversation, "photo"), media_id="MID0")
    one = queries()
    for n in range(1, 5):
        create_attachment(create_message(conversation, f"photo {n}"), media_id=f"MID{n}")
    assert queries() == one


# --- listing cards: the format, and every photo -----------------------------------------------------------------------
PUBLIC = "https://inbox.example.com"


@pytest.fixture
def listing_with_photos(org, owner):
    from switchboard.listings import services as listing_services

    listing = listing_services.listing_create(
        organization=org, by=owner, data={"reference": "39", "title": "Sea view flat", "price": "250000",
                                          "currency": "EUR", "location": "Cádiz"},
    )  # fmt: skip
    for n in range(3):
        listing_services.listing_image_upload(
            organization=org, listing=listing, by=owner,
            file=SimpleUploadedFile(f"p{n}.jpg", jpeg_bytes((64 + n, 48)), content_type="image/jpeg"),
        )  # fmt: skip
    return listing


def send_card(client, capture, listing, conversation, **extra):
    url = f"/api/listings/{listing.pk}/send-card/"
    with captured_broadcasts(), capture(execute=True):
        return client.post(url, {"conversation": conversation.pk, **extra}, format="json")


def fetchable(client, link: str) -> bool:
    """What the platform would download: the absolute signed link answers the image without any login."""
    assert link.startswith(PUBLIC + "/api/listings/")
    response = Client().get(link.removeprefix(PUBLIC))
    return response.status_code == 200 and response["Content-Type"] == "image/jpeg"


def test_whatsapp_cloud_interactive_card_then_its_other_photos(
    fake_vendor, settings, agent_client, wa_cloud_account, listing_with_photos, django_capture_on_commit_callbacks
):
    settings.PUBLIC_BASE_URL = PUBLIC
    counter = iter(range(1, 10))
    fake_vendor.on("POST", CLOUD_MESSAGES, lambda request: cloud_sent(f"wamid.CARD{next(counter)}"))
    conversation = conversation_for(wa_cloud_account)

    response = send_card(agent_client, django_capture_on_commit_callbacks, listing_with_photos, conversation,
                         format="interactive")  # fmt: skip

    assert response.status_code == 201, response.content
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.kind, message.status, message.platform_message_id) == ("listing_card", "sent", "wamid.CARD1")
    assert message.payload["format"] == "interactive" and message.error_detail == ""
    card, second, third = (r.json for r in fake_vendor.requests("POST", CLOUD_MESSAGES))
    interactive = card["interactive"]
    assert (card["type"], interactive["type"], card["to"]) == ("interactive", "button", WA_CUSTOMER.lstrip("+"))
    assert interactive["body"]["text"] == message.text and "Sea view flat" in message.text
    assert interactive["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": f"listing:{listing_with_photos.pk}:interested", "title": "I'm interested"}}
    ]
    links = [interactive["header"]["image"]["link"], second["image"]["link"], third["image"]["link"]]
    assert (second["type"], third["type"]) == ("image", "image") and len(set(links)) == 3
    assert all(fetchable(agent_client, link) for link in links)


def test_whatsapp_image_card_is_the_default_and_sends_every_photo(
    fake_vendor, settings, agent_client, wa_cloud_account, listing_with_photos, django_capture_on_commit_callbacks
):
    settings.PUBLIC_BASE_URL = PUBLIC
    fake_vendor.on("POST", CLOUD_MESSAGES, cloud_sent("wamid.IMGCARD"))
    conversation = conversation_for(wa_cloud_account)
    response = send_card(agent_client, django_capture_on_commit_callbacks, listing_with_photos, conversation)
    assert response.status_code == 201 and response.json()["payload"]["format"] == "image"
    cover, *others = (r.json for r in fake_vendor.requests("POST", CLOUD_MESSAGES))
    assert cover["type"] == "image" and cover["image"]["caption"] == response.json()["text"]
    assert [o["type"] for o in others] == ["image", "image"] and all("caption" not in o["image"] for o in others)


def test_a_photo_that_does_not_follow_never_resends_the_card(
    fake_vendor, settings, agent_client, wa_cloud_account, listing_with_photos, django_capture_on_commit_callbacks
):
    settings.PUBLIC_BASE_URL = PUBLIC
    fake_vendor.on("POST", CLOUD_MESSAGES, cloud_sent("wamid.C1"), graph_error(131053, status=400),
                   cloud_sent("wamid.C3"))  # fmt: skip
    conversation = conversation_for(wa_cloud_account)
    response = send_card(agent_client, django_capture_on_commit_callbacks, listing_with_photos, conversation)
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.status, message.platform_message_id, message.error_message) == ("sent", "wamid.C1", "")
    assert "part 2: 131053" in message.error_detail
    assert len(fake_vendor.requests("POST", CLOUD_MESSAGES)) == 3  # the card once, each photo once


def test_messenger_card_is_a_carousel_of_every_photo(
    fake_vendor, settings, agent_client, messenger_account, listing_with_photos, django_capture_on_commit_callbacks
):
    settings.PUBLIC_BASE_URL = PUBLIC
    fake_vendor.on("POST", r"/v21\.0/109876543210987/messages", Reply(200, {"recipient_id": PSID,
                                                                            "message_id": "m_CAROUSEL"}))  # fmt: skip
    conversation = conversation_for(messenger_account, external_id=PSID)
    response = send_card(agent_client, django_capture_on_commit_callbacks, listing_with_photos, conversation,
                         format="generic")  # fmt: skip
    assert response.status_code == 201, response.content
    [request] = fake_vendor.requests("POST", r"/messages$")
    elements = request.json["message"]["attachment"]["payload"]["elements"]
    assert len(elements) == 3 and all(fetchable(agent_client, e["image_url"]) for e in elements)
    assert {e["buttons"][0]["payload"] for e in elements} == {f"LISTING:{listing_with_photos.pk}:INTERESTED"}
    assert Message.objects.get(pk=response.json()["id"]).platform_message_id == "m_CAROUSEL"


@pytest.mark.parametrize(
    ("account_fixture", "external_id", "card_format", "says"),
    [
        ("twilio_account", WA_CUSTOMER, "interactive", "WhatsApp Cloud API"),
        ("bridge_account", WA_CUSTOMER, "interactive", "`image`"),
        ("messenger_account", PSID, "interactive", "`generic`"),
        ("wa_cloud_account", WA_CUSTOMER, "generic", "`image` or `interactive`"),
    ],
)
def test_a_format_the_platform_cannot_send_is_a_clear_400(
    request, fake_vendor, agent_client, listing_with_photos, django_capture_on_commit_callbacks, account_fixture,
    external_id, card_format, says,
):  # fmt: skip
    conversation = conversation_for(request.getfixturevalue(account_fixture), external_id=external_id)
    response = send_card(agent_client, django_capture_on_commit_callbacks, listing_with_photos, conversation,
                         format=card_format)  # fmt: skip
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["format"] and says in response.json()["errors"]["format"][0]
    assert not Message.objects.filter(conversation=conversation).exists() and not fake_vendor.requests()


def test_an_unknown_format_is_a_400_too(agent_client, wa_cloud_account, listing_with_photos,
                                        django_capture_on_commit_callbacks):  # fmt: skip
    conversation = conversation_for(wa_cloud_account)
    response = send_card(agent_client, django_capture_on_commit_callbacks, listing_with_photos, conversation,
                         format="carousel")  # fmt: skip
    assert response.status_code == 400 and "format" in response.json()["errors"]


def test_twilio_card_is_the_cover_with_the_caption_then_each_further_photo(
    fake_vendor, settings, agent_client, twilio_account, listing_with_photos, django_capture_on_commit_callbacks
):
    """WhatsApp through Twilio takes one media per message: the card, then one message per further photo."""
    settings.PUBLIC_BASE_URL = PUBLIC
    counter = iter(range(1, 10))
    fake_vendor.on(
        "POST", r"/2010-04-01/Accounts/AC[a]+/Messages\.json", lambda r: twilio_created(f"SM{next(counter)}")
    )
    conversation = conversation_for(twilio_account)

    response = send_card(agent_client, django_capture_on_commit_callbacks, listing_with_photos, conversation)

    assert response.status_code == 201, response.content
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.status, message.platform_message_id, message.error_detail) == ("sent", "SM1", "")
    forms = [r.form for r in fake_vendor.requests("POST", r"/2010-04-01/Accounts/AC[a]+/Messages\.json")]
    assert [form.get("Body", [""])[0] for form in forms] == [message.text, "", ""]
    links = [form["MediaUrl"][0] for form in forms]
    assert len(set(links)) == 3 and all(fetchable(agent_client, link) for link in links)
    assert {form["To"][0] for form in forms} == {f"whatsapp:{WA_CUSTOMER}"}
