"""The SSRF-safe fetcher and type detection, against a real HTTP server on 127.0.0.1 (no mocks of HTTP)."""

from __future__ import annotations

import io
import time

import pytest

from switchboard.inbox import media
from switchboard.inbox.media import MediaPolicy
from switchboard.inbox.models import MessageKind
from switchboard.listings.tests.media_server import (
    MediaServer,
    Reply,
    basic_auth,
    endless,
    jpeg_bytes,
    png_bytes,
)

PUBLIC_ADDRESS = "93.184.216.34"  # stands for a vendor CDN; the test dials its own server instead


def policy(*hosts: str, loopback: bool = True, max_bytes: int = 25 * 1024 * 1024) -> MediaPolicy:
    return MediaPolicy(
        allowed_hosts=hosts or ("127.0.0.1",), max_bytes=max_bytes, allow_loopback=loopback, require_https=False
    )


@pytest.fixture
def server():
    with MediaServer() as running:
        yield running


@pytest.fixture
def public_name(monkeypatch, server):
    """`cdn.example.test` resolves to a public address; the socket then reaches the test server. This is how a
    test plays a vendor host that later redirects somewhere it must not."""
    real_resolve = media.resolve_host

    def resolve(host: str, port: int) -> list[str]:
        return [PUBLIC_ADDRESS] if host == "cdn.example.test" else real_resolve(host, port)

    monkeypatch.setattr(media.policy, "resolve_host", resolve)
    monkeypatch.setattr(
        media.fetch, "_dial_address", lambda address: "127.0.0.1" if address == PUBLIC_ADDRESS else address
    )
    return f"http://cdn.example.test:{server.port}"


# --- host and address rules ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("graph.facebook.com", True),
        ("GRAPH.facebook.com.", True),
        ("scontent-ams2-1.xx.fbcdn.net", True),
        ("fbcdn.net", True),
        ("evilfbcdn.net", False),
        ("fbcdn.net.evil.com", False),
        ("api.twilio.com", True),
        ("127.0.0.1", False),
        ("metadata.google.internal", False),
    ],
)
def test_host_allow_list(host, allowed):
    patterns = ["graph.facebook.com", ".fbcdn.net", "api.twilio.com"]
    assert media.host_allowed(host, patterns) is allowed


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "fc00::1",
        "fe80::1",
        "ff02::1",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert media.address_refusal(address, allow_loopback=False)


@pytest.mark.parametrize("address", ["10.1.2.3", "169.254.169.254", "192.168.0.1", "fe80::1", "0.0.0.0"])
def test_allowing_loopback_never_allows_other_private_ranges(address):
    assert media.address_refusal(address, allow_loopback=True)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_allowing_loopback_allows_loopback_only(address):
    assert media.address_refusal(address, allow_loopback=True) is None


@pytest.mark.parametrize("address", ["8.8.8.8", "157.240.1.35", "2a03:2880:f12f:83:face:b00c:0:25de"])
def test_public_addresses_pass(address):
    assert media.address_refusal(address, allow_loopback=False) is None


# --- refusals before any connection -------------------------------------------------------------------------------
def test_host_outside_the_allow_list_is_refused_without_a_request(server):
    with pytest.raises(media.MediaRejected, match="not in MEDIA_ALLOWED_HOSTS"):
        media.media_fetch(f"http://localhost:{server.port}/x.jpg", policy=policy("127.0.0.1"))
    assert server.requests == []


def test_loopback_is_refused_when_not_allowed(server):
    server.route("/x.jpg", Reply(body=jpeg_bytes()))
    with pytest.raises(media.MediaRejected, match="loopback"):
        media.media_fetch(server.url("/x.jpg"), policy=policy("127.0.0.1", loopback=False))
    assert server.requests == []


def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch):
    monkeypatch.setattr(media.policy, "resolve_host", lambda host, port: ["10.0.0.7"])
    with pytest.raises(media.MediaRejected, match="private"):
        media.media_fetch("https://cdn.example.test/x.jpg", policy=policy("cdn.example.test"))


def test_one_bad_dns_record_refuses_the_host(monkeypatch):
    monkeypatch.setattr(media.policy, "resolve_host", lambda host, port: [PUBLIC_ADDRESS, "169.254.169.254"])
    with pytest.raises(media.MediaRejected, match="link-local"):
        media.media_fetch("https://cdn.example.test/x.jpg", policy=policy("cdn.example.test"))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://127.0.0.1/x.jpg", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("http://user:secret@127.0.0.1/x.jpg", "credentials"),
        ("http://127.0.0.1:99999/x.jpg", "malformed"),
        ("http:///x.jpg", "no host"),
    ],
)
def test_malformed_or_odd_urls_are_refused(url, reason):
    with pytest.raises(media.MediaRejected, match=reason):
        media.media_fetch(url, policy=policy())


def test_https_is_required_outside_loopback_tests():
    strict = MediaPolicy(allowed_hosts=("127.0.0.1",), max_bytes=1000, allow_loopback=True, require_https=True)
    with pytest.raises(media.MediaRejected, match="https"):
        media.media_fetch("http://127.0.0.1/x.jpg", policy=strict)


def test_settings_policy(settings):
    settings.MEDIA_ALLOW_LOOPBACK = False
    settings.MEDIA_ALLOWED_HOSTS = ["graph.facebook.com"]
    built = MediaPolicy.from_settings(extra_hosts=["bridge.example.com", ""])
    assert built.allowed_hosts == ("graph.facebook.com", "bridge.example.com")
    assert built.require_https and not built.allow_loopback
    assert built.max_bytes == settings.MEDIA_MAX_BYTES


# --- redirects ----------------------------------------------------------------------------------------------------
def test_redirect_to_loopback_is_refused_when_loopback_is_not_allowed(server, public_name):
    server.route("/start", Reply(302, {"Location": f"http://127.0.0.1:{server.port}/secret"}))
    server.route("/secret", Reply(body=b"internal admin page"))
    with pytest.raises(media.MediaRejected, match=r"127\.0\.0\.1 is a loopback address"):
        media.media_fetch(public_name + "/start", policy=policy("cdn.example.test", "127.0.0.1", loopback=False))
    assert server.paths() == ["/start"]  # the redirect target was never contacted


def test_redirect_to_a_name_for_loopback_is_refused(server, public_name):
    server.route("/start", Reply(307, {"Location": f"http://localhost:{server.port}/secret"}))
    with pytest.raises(media.MediaRejected, match="loopback"):
        media.media_fetch(public_name + "/start", policy=policy("cdn.example.test", "localhost", loopback=False))
    assert server.paths() == ["/start"]


def test_redirect_to_the_metadata_service_is_refused_even_with_loopback_allowed(server):
    server.route("/start", Reply(302, {"Location": "http://169.254.169.254/latest/meta-data/"}))
    with pytest.raises(media.MediaRejected, match="link-local"):
        media.media_fetch(server.url("/start"), policy=policy("127.0.0.1", "169.254.169.254"))


def test_redirect_to_a_host_outside_the_allow_list_is_refused(server):
    server.route("/start", Reply(302, {"Location": "https://attacker.example.net/x.jpg"}))
    with pytest.raises(media.MediaRejected, match=r"attacker\.example\.net is not in MEDIA_ALLOWED_HOSTS"):
        media.media_fetch(server.url("/start"), policy=policy("127.0.0.1"))


def test_at_most_five_redirects(server):
    for n in range(10):
        server.route(f"/r{n}", Reply(302, {"Location": f"/r{n + 1}"}))
    with pytest.raises(media.MediaRejected, match="more than 5 redirects"):
        media.media_fetch(server.url("/r0"), policy=policy())
    assert len(server.requests) == 6


def test_redirects_are_followed_and_credentials_stay_on_their_host(server):
    image = jpeg_bytes()
    server.route("/media/1", Reply(307, {"Location": "/files/1.jpg"}))
    server.route("/files/1.jpg", Reply(302, {"Location": f"http://localhost:{server.port}/cdn/1.jpg"}))
    server.route("/cdn/1.jpg", Reply(body=image, headers={"Content-Type": "image/jpeg"}))
    fetched = media.media_fetch(
        server.url("/media/1"),
        headers={"Authorization": basic_auth("AC1", "tok")},
        policy=policy("127.0.0.1", "localhost"),
    )
    with fetched:
        assert fetched.file.read() == image
        assert fetched.size == len(image) and fetched.content_type == "image/jpeg"
    auth = [seen.headers.get("authorization") for seen in server.requests]
    assert auth == [basic_auth("AC1", "tok"), basic_auth("AC1", "tok"), None]  # dropped when the host changed


# --- size limit ---------------------------------------------------------------------------------------------------
def test_a_declared_200_mb_body_is_refused_before_reading_it(server):
    server.route("/huge.jpg", Reply(headers={"Content-Length": str(200 * 1024 * 1024)}, body=endless()))
    started = time.monotonic()
    with pytest.raises(media.MediaRejected, match="declares 209715200 bytes"):
        media.media_fetch(server.url("/huge.jpg"), policy=policy())
    assert time.monotonic() - started < 5


def test_an_endless_body_is_cut_at_the_limit(server, settings):
    server.route("/endless.jpg", Reply(body=endless()))  # chunked, no Content-Length
    with pytest.raises(media.MediaRejected, match="exceeds the limit of 26214400 bytes"):
        media.media_fetch(server.url("/endless.jpg"), policy=policy(max_bytes=settings.MEDIA_MAX_BYTES))


def test_a_body_just_under_the_limit_passes(server):
    server.route("/ok.bin", Reply(body=b"x" * 1000))
    with media.media_fetch(server.url("/ok.bin"), policy=policy(max_bytes=1000)) as fetched:
        assert fetched.size == 1000


def test_compressed_bodies_are_refused(server):
    server.route("/gz.jpg", Reply(headers={"Content-Encoding": "gzip"}, body=b"\x1f\x8b" + b"\0" * 20))
    with pytest.raises(media.MediaRejected, match="compressed"):
        media.media_fetch(server.url("/gz.jpg"), policy=policy())


# --- status classification ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "error"),
    [
        (404, media.MediaNotFound),
        (410, media.MediaNotFound),
        (401, media.MediaFailed),
        (403, media.MediaFailed),
        (400, media.MediaFailed),
        (429, media.MediaTransientError),
        (500, media.MediaTransientError),
        (503, media.MediaTransientError),
    ],
)
def test_statuses_are_classified(server, status, error):
    server.route("/x", Reply(status, {"Retry-After": "42"}, b"no"))
    with pytest.raises(error) as raised:
        media.media_fetch(server.url("/x"), policy=policy())
    assert raised.value.status == status
    assert raised.value.transient is error.transient
    if error is media.MediaTransientError:
        assert raised.value.retry_after == 42


def test_connection_refused_is_transient():
    with pytest.raises(media.MediaTransientError):
        media.media_fetch("http://127.0.0.1:9/x.jpg", policy=policy())


def test_an_empty_body_fails(server):
    server.route("/empty", Reply(body=b""))
    with pytest.raises(media.MediaFailed, match="empty"):
        media.media_fetch(server.url("/empty"), policy=policy())


# --- type detection -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("head", "mime", "family"),
    [
        (b"\xff\xd8\xff\xe0" + b"\0" * 20, "image/jpeg", "image"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "image/png", "image"),
        (b"GIF89a" + b"\0" * 20, "image/gif", "image"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp", "image"),
        (b"\0\0\0\x18ftypmp42\0\0\0\0", "video/mp4", "video"),
        (b"\0\0\0\x18ftypisom\0\0\0\0", "video/mp4", "video"),
        (b"\0\0\0\x18ftypM4A \0\0\0\0", "audio/mp4", "audio"),
        (b"\0\0\0\x14ftypqt  \0\0\0\0", "video/quicktime", "video"),
        (b"\0\0\0\x18ftyp3gp4\0\0\0\0", "video/3gpp", "video"),
        (b"\0\0\0\x18ftypheic\0\0\0\0", "image/heic", "image"),
        (b"OggS\0\x02" + b"\0" * 20, "audio/ogg", "audio"),
        (b"ID3\x04\0" + b"\0" * 20, "audio/mpeg", "audio"),
        (b"#!AMR\n" + b"\0" * 10, "audio/amr", "audio"),
        (b"\x1aE\xdf\xa3" + b"\0" * 20, "video/webm", "video"),
        (b"%PDF-1.7\n%", "application/pdf", "document"),
        (
            b"PK\x03\x04" + b"\0" * 26 + b"word/document.xml",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "document",
        ),
        (b"PK\x03\x04" + b"\0" * 30, "application/zip", "document"),
        (b"BEGIN:VCARD\r\nVERSION:3.0", "text/vcard", "document"),
        (b"hello, plain text", "text/plain", "document"),
        (b"<!DOCTYPE html><html><body>hi", "text/html", "markup"),
        (b"\xef\xbb\xbf  <html><script>alert(1)</script>", "text/html", "markup"),
        (b'<?xml version="1.0"?><svg onload="alert(1)">', "text/html", "markup"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'>", "text/html", "markup"),
        (b"\x00\x01\x02\x03binary", "application/octet-stream", "document"),
    ],
)
def test_detect_type_from_bytes(head, mime, family):
    detected = media.detect_type(head)
    assert (detected.mime, detected.family) == (mime, family)


def test_declared_type_only_picks_among_look_alikes():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 20
    assert media.detect_type(ole, "application/vnd.ms-excel").ext == "xls"
    assert media.detect_type(ole, "image/jpeg").ext == "bin"
    assert media.detect_type(b"<html>", "image/jpeg").family == "markup"


def test_html_served_as_jpeg_is_rejected():
    with pytest.raises(media.MediaRejected, match="markup"):
        media.media_inspect(
            io.BytesIO(b"<html><body>phish</body></html>"), kind=MessageKind.IMAGE, declared_mime="image/jpeg"
        )


def test_html_is_never_stored_even_as_a_document():
    with pytest.raises(media.MediaRejected, match="markup"):
        media.media_inspect(io.BytesIO(b"<!doctype html><p>x"), kind=MessageKind.DOCUMENT)


def test_a_file_that_only_starts_like_a_jpeg_is_rejected():
    broken = jpeg_bytes()[:200]
    with pytest.raises(media.MediaRejected, match="do not decode as an image"):
        media.media_inspect(io.BytesIO(broken), kind=MessageKind.IMAGE)


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        (MessageKind.IMAGE, b"%PDF-1.4 not an image"),
        (MessageKind.VIDEO, b"\xff\xd8\xff\xe0 jpeg"),
        (MessageKind.AUDIO, b"%PDF-1.4"),
        (MessageKind.STICKER, b"OggS\0\0"),
    ],
)
def test_content_that_does_not_fit_the_declared_kind_is_rejected(kind, data):
    with pytest.raises(media.MediaRejected, match="not a valid"):
        media.media_inspect(io.BytesIO(data), kind=kind)


def test_a_real_image_is_measured_and_thumbnailed():
    inspected = media.media_inspect(io.BytesIO(jpeg_bytes((1280, 960))), kind=MessageKind.IMAGE)
    assert inspected.detected.mime == "image/jpeg" and inspected.detected.ext == "jpg"
    assert (inspected.image.width, inspected.image.height) == (1280, 960)
    from PIL import Image

    with Image.open(io.BytesIO(inspected.image.thumbnail)) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == 320


def test_transparent_png_thumbnail_is_flattened():
    inspected = media.media_inspect(io.BytesIO(png_bytes()), kind=MessageKind.STICKER)
    assert inspected.detected.mime == "image/png"
    assert inspected.image.thumbnail.startswith(b"\xff\xd8\xff")


def test_audio_in_an_mp4_container_is_accepted_as_audio():
    assert media.kind_accepts(MessageKind.AUDIO, media.detect_type(b"\0\0\0\x18ftypisom\0\0\0\0"))


def test_a_decompression_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(media.inspection, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(media.MediaRejected, match="too large"):
        media.media_inspect(io.BytesIO(jpeg_bytes((20, 20))), kind=MessageKind.IMAGE)


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("/abs/path/photo.jpg", "photo.jpg"),
        ("..", ""),
        ("name\x00with\x07controls.pdf", "namewithcontrols.pdf"),
        ("", ""),
    ],
)
def test_sender_filenames_become_display_names_only(raw, safe):
    assert media.safe_display_name(raw) == safe


def test_storage_names_ignore_everything_the_sender_said():
    name = media.storage_name(organization_id=7, ext="../../x", token="../../../etc")
    parts = name.split("/")
    assert parts[0] == "7" and len(parts) == 4 and ".." not in name
    assert parts[3].endswith(".bin") and len(parts[3]) == 32 + 4
