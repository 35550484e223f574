"""download_attachment_task end to end per platform: a real HTTP server on 127.0.0.1 plays the vendor; the task
stores, fails or rejects each attachment with its reason, and announces it with `message.updated`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.core.files.storage import default_storage
from PIL import Image

from switchboard.inbox import media
from switchboard.inbox.models import AttachmentStatus, MessageKind
from switchboard.inbox.tasks.media import (
    MAX_RETRIES,
    backoff_seconds,
    download_attachment_task,
    enqueue_attachment_downloads,
)
from switchboard.listings.tests.media_server import (
    MediaServer,
    Reply,
    allow_loopback,
    basic_auth,
    endless,
    jpeg_bytes,
    wire_whatsapp_media,
)
from switchboard.platforms.models import Platform, Provider
from switchboard.webhooks.testing import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, captured_broadcasts

STORED_NAME = re.compile(r"^(\d+)/(\d{4})/(\d{2})/([0-9a-f]{32})\.(\w+)$")


@pytest.fixture
def server(settings):
    with MediaServer() as running:
        allow_loopback(settings)
        settings.MEDIA_AUTO_DOWNLOAD = True  # whatever the suite's default, these tests download
        yield running


@pytest.fixture(autouse=True)
def _wired(monkeypatch):
    wire_whatsapp_media(monkeypatch)


@pytest.fixture
def messenger_photo(org, make_account, make_conversation, make_message, make_attachment):
    def make(url: str, **fields):
        account = make_account(org, Platform.MESSENGER, Provider.META)
        message = make_message(make_conversation(account), "", kind=MessageKind.IMAGE)
        return make_attachment(message, source_url=url, **fields)

    return make


def run(attachment, django_capture_on_commit_callbacks):
    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        result = download_attachment_task.delay(attachment.pk)
    attachment.refresh_from_db()
    return result, sent


# --- stored -------------------------------------------------------------------------------------------------------
def test_messenger_photo_is_stored_measured_thumbnailed_and_announced(
    server, messenger_photo, django_capture_on_commit_callbacks, owner
):
    image = jpeg_bytes((1024, 768))
    server.route("/photo.jpg", Reply(body=image, headers={"Content-Type": "image/jpeg"}))
    attachment = messenger_photo(server.url("/photo.jpg"), filename="beach.jpg")

    _, sent = run(attachment, django_capture_on_commit_callbacks)

    assert attachment.status == AttachmentStatus.STORED, attachment.error
    match = STORED_NAME.match(attachment.file.name)
    assert match and match.group(1) == str(attachment.organization_id) and match.group(5) == "jpg"
    assert match.group(4) == attachment.uuid.hex
    assert default_storage.open(attachment.file.name).read() == image
    assert attachment.size == len(image) and len(attachment.sha256) == 64
    assert (attachment.width, attachment.height, attachment.mime_type) == (1024, 768, "image/jpeg")
    with Image.open(default_storage.open(attachment.thumbnail.name)) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (320, 240)
    assert attachment.filename == "beach.jpg" and attachment.error == ""
    names = [name for _, name, _ in sent]
    assert names == ["message.updated"]
    data = sent[0][2]
    assert data["id"] == attachment.message_id
    assert [owner.pk] == sent[0][0]


def test_running_twice_downloads_once(server, messenger_photo, django_capture_on_commit_callbacks):
    server.route("/photo.jpg", Reply(body=jpeg_bytes()))
    attachment = messenger_photo(server.url("/photo.jpg"))
    run(attachment, django_capture_on_commit_callbacks)
    run(attachment, django_capture_on_commit_callbacks)
    assert attachment.status == AttachmentStatus.STORED
    assert server.paths() == ["/photo.jpg"]


def test_enqueue_helper_downloads_each(server, messenger_photo, make_attachment):
    server.route("/a.jpg", Reply(body=jpeg_bytes()))
    server.route("/b.jpg", Reply(body=jpeg_bytes((10, 10))))
    first = messenger_photo(server.url("/a.jpg"))
    second = make_attachment(first.message, source_url=server.url("/b.jpg"))
    enqueue_attachment_downloads([first.pk, second.pk])
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == AttachmentStatus.STORED


def test_a_missing_attachment_is_a_no_op(db):
    assert download_attachment_task.delay(987654).result == "missing"


# --- hostile inputs: rejected, with the reason recorded -------------------------------------------------------------
def test_host_outside_the_allow_list_is_rejected(settings, messenger_photo, django_capture_on_commit_callbacks):
    settings.MEDIA_ALLOWED_HOSTS = [".fbcdn.net"]
    attachment = messenger_photo("https://attacker.example.net/x.jpg")
    _, sent = run(attachment, django_capture_on_commit_callbacks)
    assert attachment.status == AttachmentStatus.REJECTED
    assert "attacker.example.net is not in MEDIA_ALLOWED_HOSTS" in attachment.error
    assert not attachment.file
    assert [name for _, name, _ in sent] == ["message.updated"]  # the client stops waiting for it


def test_redirect_to_loopback_is_rejected_when_loopback_is_not_allowed(
    settings, monkeypatch, messenger_photo, django_capture_on_commit_callbacks
):
    with MediaServer() as server:
        settings.MEDIA_ALLOW_LOOPBACK = False
        settings.MEDIA_ALLOWED_HOSTS = ["cdn.example.test", "127.0.0.1"]
        monkeypatch.setattr(media.policy, "resolve_host", lambda host, port: ["93.184.216.34"])
        monkeypatch.setattr(media.fetch, "_dial_address", lambda address: "127.0.0.1")
        # Only plain HTTP is available on the test server: keep the https rule out of this one test.
        real = media.MediaPolicy.from_settings
        monkeypatch.setattr(
            media.MediaPolicy,
            "from_settings",
            classmethod(lambda cls, **kw: cls(**{**real(**kw).__dict__, "require_https": False})),
        )
        server.route("/start", Reply(302, {"Location": f"http://127.0.0.1:{server.port}/admin"}))
        attachment = messenger_photo(f"http://cdn.example.test:{server.port}/start")
        run(attachment, django_capture_on_commit_callbacks)
        assert server.paths() == ["/start"]
    assert attachment.status == AttachmentStatus.REJECTED
    assert "127.0.0.1 is a loopback address" in attachment.error


def test_200_mb_body_is_rejected_while_streaming(server, messenger_photo, django_capture_on_commit_callbacks):
    server.route("/declared.jpg", Reply(headers={"Content-Length": str(200 * 1024 * 1024)}, body=endless()))
    server.route("/endless.jpg", Reply(body=endless()))
    declared = messenger_photo(server.url("/declared.jpg"))
    streamed = messenger_photo(server.url("/endless.jpg"))
    run(declared, django_capture_on_commit_callbacks)
    run(streamed, django_capture_on_commit_callbacks)
    assert declared.status == streamed.status == AttachmentStatus.REJECTED
    assert "declares 209715200 bytes" in declared.error
    assert "exceeds the limit" in streamed.error


def test_html_served_as_jpeg_is_rejected(server, messenger_photo, django_capture_on_commit_callbacks):
    server.route("/x.jpg", Reply(body=b"<html><script>steal()</script></html>", headers={"Content-Type": "image/jpeg"}))
    attachment = messenger_photo(server.url("/x.jpg"), mime_type="image/jpeg")
    run(attachment, django_capture_on_commit_callbacks)
    assert attachment.status == AttachmentStatus.REJECTED
    assert "markup" in attachment.error and not attachment.file


def test_a_filename_with_dot_dot_never_reaches_the_file_system(
    server, settings, messenger_photo, django_capture_on_commit_callbacks
):
    server.route("/doc", Reply(body=b"%PDF-1.4 hello"))
    attachment = messenger_photo(
        server.url("/doc"), kind=MessageKind.DOCUMENT, mime_type="application/pdf", filename="../../../etc/cron.d/x.sh"
    )
    run(attachment, django_capture_on_commit_callbacks)
    assert attachment.status == AttachmentStatus.STORED
    assert STORED_NAME.match(attachment.file.name) and attachment.file.name.endswith(".pdf")
    assert attachment.filename == "x.sh"  # display only
    root = Path(settings.MEDIA_ROOT).resolve()
    written = [p for p in root.rglob("*") if p.is_file()]
    assert written and all(p.resolve().is_relative_to(root / str(attachment.organization_id)) for p in written)
    assert not any(p.name == "x.sh" for p in written)


# --- transient errors and retries ---------------------------------------------------------------------------------
def test_transient_error_in_process_fails_once_without_looping(
    server, messenger_photo, django_capture_on_commit_callbacks
):
    server.route("/busy.jpg", Reply(503, {"Retry-After": "1"}, b"busy"))
    attachment = messenger_photo(server.url("/busy.jpg"))
    run(attachment, django_capture_on_commit_callbacks)
    assert attachment.status == AttachmentStatus.FAILED
    assert "HTTP 503" in attachment.error and "not retried in-process" in attachment.error
    assert server.paths() == ["/busy.jpg"]


def test_a_worker_retries_transient_errors_with_backoff(server, messenger_photo):
    server.route("/busy.jpg", Reply(429, {"Retry-After": "90"}, b"slow down"))
    attachment = messenger_photo(server.url("/busy.jpg"))
    with mock.patch.object(download_attachment_task, "retry", side_effect=Retry()) as retry, pytest.raises(Retry):
        download_attachment_task.run(attachment.pk)  # as a worker runs it: not eager, first attempt
    countdown = retry.call_args.kwargs["countdown"]
    assert 90 <= countdown <= 30 * 60
    attachment.refresh_from_db()
    assert attachment.status == AttachmentStatus.PENDING
    assert attachment.error.startswith(f"attempt 1 of {MAX_RETRIES + 1} failed, retrying: ")


def test_a_worker_gives_up_after_the_last_retry(server, messenger_photo):
    server.route("/down.jpg", Reply(502, body=b"bad gateway"))
    attachment = messenger_photo(server.url("/down.jpg"))
    download_attachment_task.push_request(retries=MAX_RETRIES, is_eager=False)
    try:
        assert download_attachment_task.run(attachment.pk) == AttachmentStatus.FAILED
    finally:
        download_attachment_task.pop_request()
    attachment.refresh_from_db()
    assert f"gave up after {MAX_RETRIES + 1} attempts" in attachment.error


def test_backoff_grows_and_is_capped():
    assert 15 <= backoff_seconds(0) <= 30
    assert 240 <= backoff_seconds(4) <= 480
    assert backoff_seconds(20) <= 1800
    assert backoff_seconds(0, retry_after=120) >= 120


def test_permanent_error_fails_with_the_status(server, messenger_photo, django_capture_on_commit_callbacks):
    attachment = messenger_photo(server.url("/gone.jpg"))
    run(attachment, django_capture_on_commit_callbacks)
    assert attachment.status == AttachmentStatus.FAILED and "HTTP 404" in attachment.error


def test_an_attachment_without_a_url_fails(messenger_photo, django_capture_on_commit_callbacks):
    attachment = messenger_photo("")
    run(attachment, django_capture_on_commit_callbacks)
    assert attachment.status == AttachmentStatus.FAILED and "no media URL" in attachment.error


# --- WhatsApp Cloud -----------------------------------------------------------------------------------------------
def test_cloud_media_id_is_resolved_and_an_expired_url_is_asked_for_again(
    server,
    settings,
    org,
    make_account,
    make_conversation,
    make_message,
    make_attachment,
    django_capture_on_commit_callbacks,
):
    settings.GRAPH_API_BASE = server.base_url
    settings.GRAPH_API_VERSION = "v21.0"
    image = jpeg_bytes((300, 200))
    lookups = []

    def media_object(seen):
        lookups.append(seen)
        n = len(lookups)
        return Reply(
            headers={"Content-Type": "application/json"},
            body=json.dumps(
                {
                    "messaging_product": "whatsapp",
                    "url": server.url(f"/lookaside/{n}"),
                    "mime_type": "image/jpeg",
                    "sha256": "abc",
                    "file_size": str(len(image)),
                    "id": "1037543291543636",
                }
            ).encode(),
        )

    server.route("/v21.0/1037543291543636", media_object)
    server.route("/lookaside/1", Reply(404, body=b"expired"))  # the first short-lived URL already expired
    server.route("/lookaside/2", Reply(body=image, headers={"Content-Type": "image/jpeg"}))
    account = make_account(org, Platform.WHATSAPP, Provider.META, credentials={"access_token": "EAAG-secret"})
    message = make_message(make_conversation(account), "", kind=MessageKind.IMAGE)
    attachment = make_attachment(message, media_id="1037543291543636", mime_type="image/jpeg")

    run(attachment, django_capture_on_commit_callbacks)

    assert attachment.status == AttachmentStatus.STORED, attachment.error
    assert (attachment.width, attachment.height) == (300, 200)
    assert server.paths() == ["/v21.0/1037543291543636", "/lookaside/1", "/v21.0/1037543291543636", "/lookaside/2"]
    assert all(seen.headers["authorization"] == "Bearer EAAG-secret" for seen in server.requests)
    assert lookups[0].path.endswith(f"phone_number_id={account.external_id}")


@pytest.fixture
def cloud_lookup_answering(
    server, settings, org, make_account, make_conversation, make_message, make_attachment,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    """Run the task for a WhatsApp Cloud attachment whose Graph lookup of `media_id` answers `reply`."""

    def run_with(media_id: str, reply: Reply):
        settings.GRAPH_API_BASE = server.base_url
        server.route(f"/{settings.GRAPH_API_VERSION}/{media_id}", reply)
        account = make_account(org, Platform.WHATSAPP, Provider.META)
        attachment = make_attachment(make_message(make_conversation(account), ""), media_id=media_id)
        run(attachment, django_capture_on_commit_callbacks)
        return attachment

    return run_with


def graph_error(status: int, body: bytes) -> Reply:
    return Reply(status, {"Content-Type": "application/json"}, body)


def test_cloud_expired_token_fails_and_says_reconnect(cloud_lookup_answering):
    attachment = cloud_lookup_answering(
        "555",
        graph_error(
            401,
            b'{"error":{"message":"Error validating access token","type":"OAuthException","code":190,'
            b'"error_subcode":463,"fbtrace_id":"AbC"}}',
        ),
    )
    assert attachment.status == AttachmentStatus.FAILED
    assert "code 190/463" in attachment.error and "reconnect" in attachment.error and "AbC" in attachment.error


def test_cloud_rate_limit_is_transient(cloud_lookup_answering):
    attachment = cloud_lookup_answering("556", graph_error(400, b'{"error":{"message":"Too many calls","code":4}}'))
    assert attachment.status == AttachmentStatus.FAILED and "not retried in-process" in attachment.error


# --- Twilio -------------------------------------------------------------------------------------------------------
def test_twilio_media_url_with_basic_auth_and_redirect(
    server,
    settings,
    twilio_account,
    make_conversation,
    make_message,
    make_attachment,
    django_capture_on_commit_callbacks,
):
    settings.TWILIO_API_BASE = server.base_url
    image = jpeg_bytes()
    path = f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages/MM1/Media/ME1"
    expected = basic_auth(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)
    server.route(
        path,
        lambda seen: (
            Reply(307, {"Location": "/cdn/ME1"}) if seen.headers.get("authorization") == expected else Reply(401)
        ),
    )
    server.route("/cdn/ME1", Reply(body=image, headers={"Content-Type": "image/jpeg"}))
    message = make_message(make_conversation(twilio_account), "", kind=MessageKind.IMAGE)
    attachment = make_attachment(message, source_url=server.url(path))
    run(attachment, django_capture_on_commit_callbacks)
    assert attachment.status == AttachmentStatus.STORED, attachment.error
    assert server.paths() == [path, "/cdn/ME1"]


def test_twilio_credentials_never_go_to_other_hosts(
    server,
    settings,
    twilio_account,
    make_conversation,
    make_message,
    make_attachment,
    django_capture_on_commit_callbacks,
):
    settings.TWILIO_API_BASE = "https://api.twilio.com"  # the media URL below is not Twilio's
    server.route("/steal", Reply(401))
    message = make_message(make_conversation(twilio_account), "", kind=MessageKind.IMAGE)
    attachment = make_attachment(message, source_url=server.url("/steal"))
    run(attachment, django_capture_on_commit_callbacks)
    assert attachment.status == AttachmentStatus.FAILED
    assert "authorization" not in server.requests[0].headers


# --- bridges ------------------------------------------------------------------------------------------------------
def test_bridge_relative_media_url_with_api_key(
    server,
    settings,
    org,
    make_account,
    make_conversation,
    make_message,
    make_attachment,
    django_capture_on_commit_callbacks,
):
    settings.MEDIA_ALLOWED_HOSTS = []  # the bridge's own host is allowed through its base_url
    account = make_account(
        org, Platform.WHATSAPP, Provider.BRIDGE, credentials={"base_url": server.base_url, "api_key": "k-1"}
    )
    server.route("/api/files/abc.ogg", Reply(body=b"OggS\0\x02" + b"\0" * 200))
    message = make_message(make_conversation(account), "", kind=MessageKind.AUDIO)
    attachment = make_attachment(
        message, kind=MessageKind.AUDIO, mime_type="audio/ogg", source_url="/api/files/abc.ogg"
    )
    run(attachment, django_capture_on_commit_callbacks)
    assert attachment.status == AttachmentStatus.STORED, attachment.error
    assert attachment.mime_type == "audio/ogg" and attachment.file.name.endswith(".ogg")
    assert server.requests[0].headers["x-api-key"] == "k-1"


def test_an_unexpected_error_ends_failed_instead_of_pending(
    server, messenger_photo, monkeypatch, django_capture_on_commit_callbacks
):
    server.route("/photo.jpg", Reply(body=jpeg_bytes()))
    attachment = messenger_photo(server.url("/photo.jpg"))
    monkeypatch.setattr(media.attachments, "media_inspect", mock.Mock(side_effect=KeyError("bug")))
    run(attachment, django_capture_on_commit_callbacks)
    assert attachment.status == AttachmentStatus.FAILED and attachment.error == "unexpected error: KeyError"


def test_a_storage_outage_is_transient(server, messenger_photo, monkeypatch, django_capture_on_commit_callbacks):
    server.route("/photo.jpg", Reply(body=jpeg_bytes()))
    attachment = messenger_photo(server.url("/photo.jpg"))
    monkeypatch.setattr(media.storage, "default_storage", mock.Mock(save=mock.Mock(side_effect=OSError("disk full"))))
    run(attachment, django_capture_on_commit_callbacks)
    assert attachment.status == AttachmentStatus.FAILED
    assert "storing the file failed: disk full" in attachment.error and "not retried in-process" in attachment.error
