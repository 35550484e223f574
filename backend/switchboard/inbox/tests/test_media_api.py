"""Serving stored media: members only (JWT), short-lived signed URLs for `<img>`, X-Accel-Redirect for nginx."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns
from conftest import client_for
from switchboard.inbox import media
from switchboard.inbox.models import AttachmentStatus, MessageKind
from switchboard.listings.tests.media_server import jpeg_bytes
from switchboard.platforms.models import Platform

# Until config/urls.py mounts `switchboard.inbox.media_urls` at api/media/ (see the issue-4 report), this module
# is its own URLconf: the project's routes plus the media routes, exactly as they will be mounted.
urlpatterns = [path("api/media/", include("switchboard.inbox.media_urls")), *project_urlpatterns]
pytestmark = pytest.mark.urls(__name__)


@pytest.fixture
def stored(org, make_account, make_conversation, make_message, make_attachment):
    def make(organization=None, *, thumbnail=True, **fields):
        organization = organization or org
        account = make_account(organization, Platform.WHATSAPP)
        message = make_message(make_conversation(account), "", kind=MessageKind.IMAGE)
        attachment = make_attachment(message, status=AttachmentStatus.STORED, **fields)
        name = media.storage_name(organization_id=organization.pk, ext="jpg", token=attachment.uuid.hex)
        attachment.file.name = default_storage.save(name, ContentFile(jpeg_bytes()))
        if thumbnail:
            thumb = media.storage_name(
                organization_id=organization.pk, ext="jpg", token=attachment.uuid.hex, suffix="_thumb"
            )
            attachment.thumbnail.name = default_storage.save(thumb, ContentFile(jpeg_bytes((32, 24))))
        attachment.save()
        return attachment

    return make


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_member_downloads_the_file_and_the_thumbnail(agent_client, stored):
    attachment = stored(filename="../../x.jpg")
    response = agent_client.get(f"/api/media/{attachment.pk}/")
    assert response.status_code == 200
    assert body(response) == default_storage.open(attachment.file.name).read()
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Cache-Control"].startswith("private")
    assert response["Content-Disposition"].startswith("inline")
    thumb = agent_client.get(f"/api/media/{attachment.pk}/?thumb=1")
    assert thumb.status_code == 200 and body(thumb) == default_storage.open(attachment.thumbnail.name).read()


def test_documents_download_instead_of_rendering(agent_client, stored):
    attachment = stored(thumbnail=False, kind=MessageKind.DOCUMENT, mime_type="application/pdf", filename="lease.pdf")
    response = agent_client.get(f"/api/media/{attachment.pk}/")
    assert response["Content-Disposition"].startswith('attachment; filename="lease.pdf"')
    assert agent_client.get(f"/api/media/{attachment.pk}/?thumb=1").status_code == 404


def test_another_tenants_attachment_is_a_404(make_org, make_user, stored):
    other = make_org()
    attachment = stored(other)
    outsider = client_for(make_user(make_org()))
    for url in (
        f"/api/media/{attachment.pk}/",
        f"/api/media/{attachment.pk}/?thumb=1",
        f"/api/media/{attachment.pk}/url/",
    ):
        response = outsider.get(url)
        assert response.status_code == 404 and response.json()["detail"]


def test_pending_or_rejected_attachments_are_not_served(
    agent_client, org, make_account, make_conversation, make_message, make_attachment
):
    message = make_message(make_conversation(make_account(org)), "")
    for status in (AttachmentStatus.PENDING, AttachmentStatus.REJECTED, AttachmentStatus.FAILED):
        attachment = make_attachment(message, status=status)
        assert agent_client.get(f"/api/media/{attachment.pk}/").status_code == 404
        assert media.attachment_urls(attachment) == {"url": None, "thumbnail_url": None}


def test_anonymous_requests_are_refused(api_client, stored):
    assert api_client.get(f"/api/media/{stored().pk}/").status_code == 401


def test_signed_urls_work_without_a_header(api_client, stored):
    attachment = stored()
    urls = media.attachment_urls(attachment)
    assert urls["url"].startswith(f"/api/media/{attachment.pk}/signed/?sig=")
    response = api_client.get(urls["url"])
    assert response.status_code == 200 and body(response) == default_storage.open(attachment.file.name).read()
    thumb = api_client.get(urls["thumbnail_url"])
    assert body(thumb) == default_storage.open(attachment.thumbnail.name).read()


def test_signed_urls_ignore_a_stale_authorization_header(stored):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")
    assert client.get(media.attachment_urls(stored())["url"]).status_code == 200


def test_a_signature_is_bound_to_its_attachment(api_client, stored):
    first, second = stored(), stored()
    token = media.attachment_urls(first)["url"].split("sig=", 1)[1]
    assert api_client.get(f"/api/media/{second.pk}/signed/?sig={token}").status_code == 404


def test_forged_missing_and_expired_signatures_are_404(api_client, stored, settings):
    attachment = stored()
    url = media.attachment_urls(attachment)["url"]
    assert api_client.get(f"/api/media/{attachment.pk}/signed/").status_code == 404
    assert api_client.get(url[:-3] + "abc").status_code == 404
    settings.MEDIA_URL_TTL_SECONDS = -1  # every signature is now older than its lifetime
    response = api_client.get(url)
    assert response.status_code == 404 and response.json()["detail"]


def test_a_signature_for_another_tenant_reads_only_that_tenant(api_client, stored, make_org):
    attachment = stored()
    forged = media.media_sign({"a": attachment.pk, "o": make_org().pk, "t": 0})
    assert api_client.get(f"/api/media/{attachment.pk}/signed/?sig={forged}").status_code == 404


def test_fresh_signed_urls_endpoint(agent_client, api_client, stored, settings):
    attachment = stored()
    data = agent_client.get(f"/api/media/{attachment.pk}/url/").json()
    assert data["expires_in"] == settings.MEDIA_URL_TTL_SECONDS
    assert api_client.get(data["url"]).status_code == 200 and api_client.get(data["thumbnail_url"]).status_code == 200


def test_x_accel_redirect_hands_the_file_to_nginx(agent_client, api_client, stored, settings):
    settings.MEDIA_X_ACCEL_REDIRECT = True
    attachment = stored()
    for response in (
        agent_client.get(f"/api/media/{attachment.pk}/"),
        api_client.get(media.attachment_urls(attachment)["url"]),
    ):
        assert response.status_code == 200
        assert response["X-Accel-Redirect"] == f"/protected-media/{attachment.file.name}"
        assert response.content == b"" and response["Content-Type"] == "image/jpeg"


def test_a_file_missing_from_storage_is_a_404(agent_client, stored):
    attachment = stored()
    default_storage.delete(attachment.file.name)
    assert agent_client.get(f"/api/media/{attachment.pk}/").status_code == 404
