"""Serving stored media to the owning tenant only.

* `GET /api/media/<id>/` (`?thumb=1` for the thumbnail) — JWT; another organization's attachment is a 404.
* `GET /api/media/<id>/url/` — JWT; fresh signed URLs for the file and its thumbnail.
* `GET /api/media/<id>/signed/?sig=…` — no header (for `<img src>`): the signature binds the attachment id, its
  organization and file-or-thumbnail, and expires after MEDIA_URL_TTL_SECONDS. A missing, forged, expired or
  re-targeted signature answers 404, exactly like a missing attachment.

With MEDIA_X_ACCEL_REDIRECT the answer is an empty `X-Accel-Redirect: /protected-media/<path>` for nginx.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from switchboard.accounts.serializers import ErrorSerializer
from switchboard.accounts.tenancy import TenantScopedViewMixin
from switchboard.inbox import media
from switchboard.inbox.models import Attachment, AttachmentStatus

_BINARY = {
    (200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The file, or an empty body for nginx."),
    404: OpenApiResponse(ErrorSerializer, description="No such stored attachment in your organization."),
}
_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The attachment id.")


def _file_response(attachment: Attachment, *, thumb: bool) -> HttpResponseBase:
    # A FieldFile is false exactly when it has no name.
    if attachment.status != AttachmentStatus.STORED or not attachment.file.name:
        raise Http404("The attachment is not stored.")
    if thumb:
        if not attachment.thumbnail.name:
            raise Http404("The attachment has no thumbnail.")
        return media.media_file_response(name=attachment.thumbnail.name, content_type="image/jpeg")
    return media.media_file_response(
        name=attachment.file.name,
        content_type=attachment.mime_type,
        filename=attachment.filename,
        inline=media.inline_content_type(attachment.mime_type),
    )


class MediaUrlsSerializer(serializers.Serializer):
    url = serializers.CharField(allow_null=True, help_text="Signed URL of the file (no header needed).")
    thumbnail_url = serializers.CharField(allow_null=True, help_text="Signed URL of the thumbnail, if any.")
    expires_in = serializers.IntegerField(help_text="Seconds the signed URLs stay valid.")


class AttachmentMediaView(TenantScopedViewMixin[Attachment], generics.GenericAPIView[Attachment]):
    """The stored file of an attachment, for members of its organization."""

    lookup_field = "pk"

    def scoped_queryset(self) -> QuerySet[Attachment]:
        return Attachment.objects.all()

    @extend_schema(
        summary="Download an attachment's file",
        description="The stored file (`?thumb=1`: its 320px JPEG thumbnail). 404 until the media is stored.",
        parameters=[
            _ID,
            OpenApiParameter("thumb", OpenApiTypes.BOOL, OpenApiParameter.QUERY, description="The thumbnail."),
        ],
        responses=_BINARY,
        tags=["media"],
    )
    def get(self, request: Request, pk: str) -> HttpResponseBase:
        thumb = request.query_params.get("thumb", "").lower() in ("1", "true", "yes")
        return _file_response(self.get_object(), thumb=thumb)


class AttachmentMediaUrlsView(TenantScopedViewMixin[Attachment], generics.GenericAPIView[Attachment]):
    """Fresh signed URLs, for clients whose earlier ones expired."""

    lookup_field = "pk"
    serializer_class = MediaUrlsSerializer

    def scoped_queryset(self) -> QuerySet[Attachment]:
        return Attachment.objects.all()

    @extend_schema(
        summary="Signed URLs of an attachment",
        description="Short-lived URLs usable without an Authorization header (e.g. in `<img src>`).",
        parameters=[_ID],
        responses={200: MediaUrlsSerializer, 404: ErrorSerializer},
        tags=["media"],
    )
    def get(self, request: Request, pk: str) -> Response:
        urls = media.attachment_urls(self.get_object())
        return Response(MediaUrlsSerializer({**urls, "expires_in": settings.MEDIA_URL_TTL_SECONDS}).data)


class SignedAttachmentMediaView(generics.GenericAPIView):
    """No JWT here (an `<img>` sends none): the signature is the proof of tenancy. It names the organization, and
    the row is read through `for_organization` with it — never by id alone."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Download an attachment's file by signed URL",
        description="The URL comes from `url` / `thumbnail_url` of an attachment; it expires after a few minutes.",
        parameters=[
            _ID,
            OpenApiParameter("sig", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True, description="Signature."),
        ],
        responses=_BINARY,
        auth=[],
        tags=["media"],
    )
    def get(self, request: Request, pk: str) -> HttpResponseBase:
        checked = media.attachment_signature_check(request.query_params.get("sig", ""), attachment_id=int(pk))
        if checked is None:
            raise Http404("No such attachment.")
        organization_id, thumb = checked
        attachment = Attachment.objects.for_organization(organization_id).filter(pk=int(pk)).first()
        if attachment is None:
            raise Http404("No such attachment.")
        return _file_response(attachment, thumb=thumb)
