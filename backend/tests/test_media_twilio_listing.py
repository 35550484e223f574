"""Issue 4, end to end: a signed Twilio webhook with three MediaUrlN pointing at a real HTTP server on 127.0.0.1
(JPEG bytes behind basic auth and a redirect). Within the task run the listing gains the three photos,
`card-display` returns the card, and a WebSocket client receives `card.update` — with no one pressing anything.

MessageService enqueues the downloads on commit; under the test settings Celery runs them in-process.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from config.asgi import application
from conftest import client_for
from switchboard.inbox.models import Attachment, AttachmentStatus, Message
from switchboard.listings import services
from switchboard.listings.models import ListingImage
from switchboard.listings.tests.media_server import (
    MediaServer,
    Reply,
    allow_loopback,
    basic_auth,
    jpeg_bytes,
)
from switchboard.webhooks.testing import ENDPOINT_PATHS, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, twilio_signature

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

CUSTOMER = "+447700900123"
MESSAGE_SID = "MM0123456789abcdef0123456789abcdef"


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture
def vendor(settings):
    """Twilio's media host on 127.0.0.1: `/…/Media/MEn` wants basic auth and redirects to `/cdn/MEn.jpg`."""
    expected = basic_auth(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)
    with MediaServer() as server:
        for n in range(3):
            media_path = f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages/{MESSAGE_SID}/Media/ME{n}"

            def protected(seen, n=n):
                if seen.headers.get("authorization") != expected:
                    return Reply(401, {"WWW-Authenticate": 'Basic realm="Twilio API"'}, b"unauthorized")
                return Reply(307, {"Location": f"/cdn/ME{n}.jpg"})

            server.route(media_path, protected)
            server.route(
                f"/cdn/ME{n}.jpg", Reply(body=jpeg_bytes((800 + n, 600)), headers={"Content-Type": "image/jpeg"})
            )
        allow_loopback(settings)  # MEDIA_ALLOW_LOOPBACK=True, MEDIA_ALLOWED_HOSTS=["127.0.0.1"]
        settings.TWILIO_API_BASE = server.base_url  # Twilio's API host: the only one given the credentials
        settings.MEDIA_AUTO_DOWNLOAD = True
        yield server


def twilio_form(server: MediaServer, body: str) -> bytes:
    params = {
        "SmsMessageSid": MESSAGE_SID,
        "MessageSid": MESSAGE_SID,
        "AccountSid": TWILIO_ACCOUNT_SID,
        "From": f"whatsapp:{CUSTOMER}",
        "To": "whatsapp:+14155238886",
        "Body": body,
        "NumMedia": "3",
        "ProfileName": "Ana Owner",
        "WaId": CUSTOMER.lstrip("+"),
        "MessageType": "image",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }
    for n in range(3):
        params[f"MediaUrl{n}"] = server.url(
            f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages/{MESSAGE_SID}/Media/ME{n}"
        )
        params[f"MediaContentType{n}"] = "image/jpeg"
    return urlencode(params).encode()


async def receive_until(communicator: WebsocketCommunicator, event: str, timeout: float = 5) -> list[dict]:
    seen = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f"no {event} within {timeout}s; got {[m['type'] for m in seen]}")
        message = await communicator.receive_json_from(timeout=remaining)
        seen.append(message)
        if message["type"] == event:
            return seen


@pytest.mark.parametrize("how", ["contact_index", "caption"])
async def test_three_twilio_photos_become_a_listing_card(how, vendor, poster, twilio_account, org, owner):
    listing = await sync_to_async(services.listing_create)(
        organization=org,
        by=owner,
        data={"reference": "39", "title": "Sea view flat", "price": "250000", "currency": "EUR"},
    )
    if how == "contact_index":
        await sync_to_async(services.contact_index_link)(organization=org, listing=listing, phone_number=CUSTOMER)
    caption = "Photos of Property 39" if how == "caption" else ""

    communicator = WebsocketCommunicator(application, f"/ws/messages/?token={AccessToken.for_user(owner)}")
    connected, _ = await communicator.connect()
    assert connected and (await communicator.receive_json_from())["type"] == "connection.ready"

    # MessageService enqueues the downloads on commit; eager Celery runs them (download, store, file under the
    # listing, note, cache, push) before the webhook is answered.
    response = await sync_to_async(signed_twilio_post)(poster, twilio_form(vendor, caption))
    assert response.status_code == 200
    message = await Message.objects.aget(platform_account=twilio_account, platform_message_id=MESSAGE_SID)

    statuses = [a.status async for a in Attachment.objects.filter(message=message)]
    assert statuses == [AttachmentStatus.STORED] * 3
    assert await ListingImage.objects.filter(listing=listing).acount() == 3
    assert len(vendor.paths()) == 6  # each photo: the authenticated API URL, then the redirect target

    card_display = await sync_to_async(get_as)(owner, f"/api/listings/{listing.pk}/card-display/")
    data = card_display.json()
    assert data["has_card"] is True and data["message"] == "Property 39 has 3 images."
    assert data["card"]["image_count"] == 3 and len(data["card"]["images"]) == 3
    assert data["card"]["title"] == "Sea view flat" and data["card"]["verified_with_photos"] is True

    events = await receive_until(communicator, "card.update")
    names = [event["type"] for event in events]
    assert names.count("message.updated") == 3  # one per stored attachment, each with its signed URLs
    notes = [e["data"] for e in events if e["type"] == "message.created" and e["data"]["kind"] == "listing_card"]
    assert len(notes) == 1  # the listing_card note, once for the whole album
    card_update = events[-1]["data"]
    assert card_update["listing_id"] == listing.pk
    assert card_update["message"] == "Photos received! Property 39 now has 3 images."
    assert card_update["card"]["image_count"] == 3
    assert notes[0]["text"] == card_update["message"] and notes[0]["direction"] == "outbound"

    notice = await sync_to_async(get_as)(owner, f"/api/listings/{listing.pk}/auto-display/")
    assert notice.json()["notice"]["added"] == 3
    await communicator.disconnect()


def signed_twilio_post(poster, body: bytes):
    """Signed exactly as `poster.twilio()` signs, without its broadcast capture: the WebSocket client must receive
    what the download tasks send during the delivery."""
    url = "http://testserver" + ENDPOINT_PATHS["twilio"]
    return poster.client.generic(
        "POST",
        ENDPOINT_PATHS["twilio"],
        body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": twilio_signature(url, body)},
    )


def get_as(user, url: str):
    return client_for(user).get(url)
