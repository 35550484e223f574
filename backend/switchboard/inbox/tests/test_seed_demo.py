"""`manage.py seed_demo` never leaves the machine (issue 9): sandbox accounts with working webhook secrets, media
stored from shipped files and served by the media API, the ids the docs use printed — under a test in which any
outgoing connection or name lookup fails it."""

from __future__ import annotations

import io
import ipaddress
import json
import socket
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from switchboard.accounts.models import Organization, User
from switchboard.inbox.models import Attachment, AttachmentStatus, Message
from switchboard.inbox.payloads import AttachmentSerializer
from switchboard.listings.models import Listing
from switchboard.platforms.models import Platform, PlatformAccount, Provider
from switchboard.webhooks.testing import meta_signature

WHATSAPP_FIXTURE = Path(__file__).resolve().parents[2] / "whatsapp" / "tests" / "fixtures" / "cloud__text__basic.json"
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def _is_loopback(host: object) -> bool:
    if host is None or str(host) in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


@pytest.fixture
def offline(monkeypatch):
    """Every connection to, and name lookup of, anything but loopback fails the test (and is recorded, so a caller
    that swallows the error still fails it)."""
    attempts: list[str] = []
    connect, getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def guarded_connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            attempts.append(f"connect {address}")
            raise OSError(f"test: outgoing connection to {address} refused")
        return connect(self, address)

    def guarded_getaddrinfo(host, *args, **kwargs):
        if not _is_loopback(host):
            attempts.append(f"getaddrinfo {host}")
            raise socket.gaierror(f"test: name lookup of {host} refused")
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    yield attempts
    assert attempts == [], f"seed_demo reached out: {attempts}"


@pytest.fixture
def seed(db, settings, celery_eager, django_capture_on_commit_callbacks, offline):
    settings.MEDIA_AUTO_DOWNLOAD = True  # as under `make run`: the media task runs too, and must stay local

    def run(*args: str) -> str:
        out = io.StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("seed_demo", *args, stdout=out)
        return out.getvalue()

    return run


def demo_client() -> APIClient:
    client = APIClient()
    user = User.objects.get(email="demo@switchboard.local")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def test_seeding_stores_every_demo_attachment_from_shipped_files_without_the_network(seed, offline):
    output = seed()

    organization = Organization.objects.get(slug="demo-agency")
    attachments = Attachment.objects.for_organization(organization)
    assert attachments.count() == 9
    assert set(attachments.values_list("status", flat=True)) == {AttachmentStatus.STORED}
    assert sorted(attachments.values_list("mime_type", flat=True)) == [
        "application/pdf", "audio/wav", "image/gif", "image/jpeg", "image/jpeg", "image/jpeg", "image/jpeg",
        "image/jpeg", "image/webp",
    ]  # fmt: skip
    assert all(attachment.file and attachment.size for attachment in attachments)
    # They render through the media API as any download would: the file itself, with its type.
    client = demo_client()
    for attachment in attachments:
        url = AttachmentSerializer(attachment).data["url"]
        response = client.get(url)
        assert response.status_code == 200, (attachment.pk, url)
        assert response["Content-Type"].startswith(attachment.mime_type)
        assert b"".join(response.streaming_content if response.streaming else [response.content])[:4] in {
            b"\xff\xd8\xff\xe0", b"%PDF", b"RIFF", b"GIF8", b"\xff\xd8\xff\xdb",
        }  # fmt: skip
    assert "22 new messages, 9 media stored." in output
    assert "Log in as demo@switchboard.local / switchboard-demo (also the Django admin at /admin/)." in output
    assert offline == []


def test_the_demo_accounts_are_sandbox_accounts_that_answer(seed):
    seed()

    accounts = PlatformAccount.objects.filter(organization__slug="demo-agency").order_by("platform")
    assert [(a.platform, a.provider) for a in accounts] == [
        (Platform.INSTAGRAM, Provider.SANDBOX),
        (Platform.MESSENGER, Provider.SANDBOX),
        (Platform.WHATSAPP, Provider.SANDBOX),
    ]
    assert all(a.settings.get("simulate_replies") is True for a in accounts)
    assert all(a.webhook_secret == "switchboard-demo-webhook-secret" and a.credentials == {} for a in accounts)
    listing = Listing.objects.get(organization__slug="demo-agency", reference="OAK12")
    assert listing.images.count() == 3
    card = Message.objects.get(platform_message_id="demo-wa-4")
    assert card.payload["listing_id"] == listing.pk


def test_the_printed_ids_are_the_demo_objects_and_a_second_run_changes_nothing(seed):
    seed()
    ids = json.loads(seed("--json"))

    organization = Organization.objects.get(slug="demo-agency")
    assert ids["organization"] == {"id": organization.pk, "slug": "demo-agency", "name": "Sunrise Realty (demo)"}
    assert ids["login"] == {"email": "demo@switchboard.local", "password": "switchboard-demo"}
    whatsapp = PlatformAccount.objects.get(organization=organization, platform=Platform.WHATSAPP)
    assert ids["accounts"]["whatsapp"] == {
        "id": whatsapp.pk,
        "provider": "sandbox",
        "external_id": "106540352242922",
        "webhook_url": "/api/webhooks/sandbox/whatsapp/",
        "webhook_secret": "switchboard-demo-webhook-secret",
    }
    conversation = whatsapp.conversations.get(pk=ids["conversation"]["id"])
    assert (conversation.contact.name, ids["conversation"]["contact_external_id"]) == ("Maria Gonzalez", "+14155550101")
    assert ids["listing"] == {"id": Listing.objects.get(reference="OAK12").pk, "reference": "OAK12",
                              "title": "12 Oak Street"}  # fmt: skip

    again = seed()
    assert "0 new messages, 9 media stored." in again
    assert f"Conversation {conversation.pk}: Maria Gonzalez on whatsapp." in again
    assert Listing.objects.count() == 1 and Attachment.objects.count() == 9


def test_a_signed_test_delivery_to_a_demo_account_is_accepted(seed, client, django_capture_on_commit_callbacks):
    seed()
    body = WHATSAPP_FIXTURE.read_bytes()  # addressed to phone_number_id 106540352242922, the demo number

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/webhooks/sandbox/whatsapp/",
            body,
            content_type="application/json",
            headers={"X-Hub-Signature-256": meta_signature(body, "switchboard-demo-webhook-secret")},
        )

    assert response.status_code == 200, response.content
    stored = Message.objects.get(platform_message_id="wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAwMQA=")
    assert stored.platform_account.organization.slug == "demo-agency"
    assert stored.text == "Hola! Is the flat on Calle Mayor still available?"


def test_demo_data_from_before_the_sandbox_is_brought_over(seed, make_account):
    """A database seeded by the old command: Meta accounts with a fake token, media that failed to download."""
    organization = Organization.objects.create(slug="demo-agency", name="Sunrise Realty (demo)")
    old = make_account(organization, Platform.WHATSAPP, Provider.META, external_id="106540352242922",
                       credentials={"access_token": "demo-token-not-valid"})  # fmt: skip
    from switchboard.inbox.tests.conftest import create_attachment, create_conversation, create_message

    video = create_message(create_conversation(old), "Walkthrough of my current place", kind="video",
                           platform_message_id="demo-wa-10")  # fmt: skip
    create_attachment(video, kind="video", media_id="demo-media-video", mime_type="video/mp4",
                      status=AttachmentStatus.FAILED, error="Graph API unreachable: NameResolutionError")  # fmt: skip

    seed()

    old.refresh_from_db()
    assert (old.provider, old.credentials, old.settings["simulate_replies"]) == (Provider.SANDBOX, {}, True)
    assert PlatformAccount.objects.filter(organization=organization, platform=Platform.WHATSAPP).count() == 1
    video.refresh_from_db()
    [attachment] = video.attachments.all()
    assert (video.kind, attachment.kind, attachment.status, attachment.mime_type) == (
        "image", "image", AttachmentStatus.STORED, "image/gif",
    )  # fmt: skip
    assert attachment.error == ""
