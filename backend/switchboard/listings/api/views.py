"""The listings REST API. Views parse input, resolve the tenant (TenantScopedViewMixin) and call services or
selectors; they never write. Another organization's listing, image, contact or conversation answers 404."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from switchboard.accounts.serializers import ErrorSerializer, ValidationErrorSerializer
from switchboard.accounts.tenancy import AuthenticatedRequest, TenantScopedViewMixin, request_membership
from switchboard.common.filters import ListFiltersOnlyMixin
from switchboard.common.ids import parse_id
from switchboard.common.pagination import page_size_from, page_size_parameter
from switchboard.common.parsers import FormParser, JSONParser, MultiPartParser
from switchboard.inbox.media import media_file_response
from switchboard.inbox.models import Contact, Conversation
from switchboard.inbox.payloads import MessageSerializer
from switchboard.listings import cards, selectors, services
from switchboard.listings.api.filters import ListingFilter
from switchboard.listings.api.serializers import (
    AutoDisplaySerializer,
    CardDisplaySerializer,
    ContactLinkCreateSerializer,
    ContactLinkSerializer,
    ListingImageSerializer,
    ListingImagesReorderSerializer,
    ListingImagesSerializer,
    ListingImageUpdateSerializer,
    ListingImageUploadSerializer,
    ListingSerializer,
    ListingWriteSerializer,
    SendCardSerializer,
    card_display_data,
)
from switchboard.listings.models import Listing, ListingImage

TAGS = ["listings"]
_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such listing in your organization.")
_INVALID = OpenApiResponse(ValidationErrorSerializer, description="Invalid input.")
_IMAGE_ID = OpenApiParameter("image_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The image id.")
_LINK_ID = OpenApiParameter("link_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The contact link id.")
_SAFE_FILENAME = re.compile(r"[A-Za-z0-9_-]{1,100}\.[a-z0-9]{1,8}")


class ListingPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        return page_size_from(
            request, param=self.page_size_query_param, default=self.page_size, maximum=self.max_page_size
        )

    def get_page_number(self, request: Request, paginator: Any) -> int | str:
        # A page that is no number is bad input (400); a number past the last page stays DRF's 404.
        number = super().get_page_number(request, paginator)
        text = str(number)
        if number not in self.last_page_strings and not (text.isascii() and text.isdigit() and int(text) >= 1):
            raise serializers.ValidationError({self.page_query_param: ["A whole number of at least 1, or 'last'."]})
        return number

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        page_size_parameter(
            parameters, param=self.page_size_query_param, default=self.page_size, maximum=self.max_page_size
        )
        return parameters


def _images_data(listing: Listing) -> dict[str, Any]:
    images = list(selectors.listing_images(listing=listing))
    urls = [cards.image_urls(image)["url"] for image in images]
    return {
        "listing_id": listing.pk,
        "image_count": len(images),
        "image_urls": [url for url in urls if url],
        "verified_with_photos": cards.verified_with_photos(images),
        "images": images,
    }


@extend_schema_view(
    list=extend_schema(
        summary="List listings",
        description="Most recently changed first; `status` and `search` filter, page-numbered (`page_size` ≤ 200).",
        tags=TAGS,
    ),
    retrieve=extend_schema(summary="Get a listing", responses={200: ListingSerializer, 404: _NOT_FOUND}, tags=TAGS),
    create=extend_schema(
        summary="Create a listing",
        description="`reference` is the code contacts write in captions ('Property 39', '#39').",
        request=ListingWriteSerializer,
        responses={201: ListingSerializer, 400: _INVALID, 409: ErrorSerializer},
        tags=TAGS,
    ),
    partial_update=extend_schema(
        summary="Change a listing",
        request=ListingWriteSerializer,
        responses={200: ListingSerializer, 400: _INVALID, 404: _NOT_FOUND, 409: ErrorSerializer},
        tags=TAGS,
    ),
    update=extend_schema(
        summary="Replace a listing",
        request=ListingWriteSerializer,
        responses={200: ListingSerializer, 400: _INVALID, 404: _NOT_FOUND, 409: ErrorSerializer},
        tags=TAGS,
    ),
    destroy=extend_schema(
        summary="Delete a listing",
        description="Its uploaded images go with it; photos received in conversations stay on their messages.",
        responses={204: None, 404: _NOT_FOUND},
        tags=TAGS,
    ),
)
class ListingViewSet(
    TenantScopedViewMixin[Listing],
    ListFiltersOnlyMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Listing],
):
    """The organization's property listings, their images, linked contacts and cards."""

    serializer_class = ListingSerializer
    filterset_class = ListingFilter
    pagination_class = ListingPagination
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def scoped_queryset(self) -> QuerySet[Listing]:
        return selectors.listing_queryset().order_by("-updated_at", "-id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action in ("create", "update", "partial_update"):
            return ListingWriteSerializer
        return ListingSerializer

    def _listing(self) -> Listing:
        return self.get_object()

    # --- CRUD -----------------------------------------------------------------------------------------------------
    def create(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        serializer = ListingWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        listing = services.listing_create(
            organization=self.organization, by=request.user, data=serializer.validated_data
        )
        return Response(ListingSerializer(listing).data, status=status.HTTP_201_CREATED)

    def update(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        listing = self._listing()
        serializer = ListingWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        listing = services.listing_update(
            organization=self.organization, listing=listing, by=request.user, data=serializer.validated_data
        )
        return Response(ListingSerializer(listing).data)

    def partial_update(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        services.listing_delete(organization=self.organization, listing=self._listing(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- images ---------------------------------------------------------------------------------------------------
    @extend_schema(
        methods=["GET"],
        summary="The listing's images",
        description="`image_urls` are signed, short-lived URLs usable in `<img src>`.",
        request=None,
        responses={200: ListingImagesSerializer, 404: _NOT_FOUND},
        tags=TAGS,
    )
    @extend_schema(
        methods=["POST"],
        summary="Upload an image",
        description="Multipart `file` (+ `caption`). The image is decoded before it is stored; it goes last.",
        request={"multipart/form-data": ListingImageUploadSerializer},
        responses={201: ListingImageSerializer, 400: _INVALID, 404: _NOT_FOUND},
        tags=TAGS,
    )
    @action(detail=True, methods=["get", "post"], url_path="images")
    def images(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        listing = self._listing()
        if request.method == "GET":
            return Response(ListingImagesSerializer(_images_data(listing)).data)
        serializer = ListingImageUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        image = services.listing_image_upload(
            organization=self.organization,
            listing=listing,
            by=request.user,
            file=serializer.validated_data["file"],
            caption=serializer.validated_data["caption"],
        )
        return Response(ListingImageSerializer(image).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Reorder the images",
        request=ListingImagesReorderSerializer,
        responses={200: ListingImageSerializer(many=True), 400: _INVALID, 404: _NOT_FOUND},
        tags=TAGS,
    )
    @action(detail=True, methods=["post"], url_path="images/reorder")
    def reorder_images(self, request: Request, pk: str | None = None) -> Response:
        listing = self._listing()
        serializer = ListingImagesReorderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        images = services.listing_images_reorder(
            organization=self.organization, listing=listing, image_ids=serializer.validated_data["image_ids"]
        )
        return Response(ListingImageSerializer(images, many=True).data)

    def _image(self, listing: Listing, image_id: str) -> ListingImage:
        pk = parse_id(image_id)
        image = None
        if pk is not None:
            image = selectors.listing_images(listing=listing).filter(pk=pk).select_related("listing").first()
        if image is None:
            raise Http404("No such image.")
        return image

    @extend_schema(
        methods=["PATCH"],
        summary="Change an image's caption",
        parameters=[_IMAGE_ID],
        request=ListingImageUpdateSerializer,
        responses={200: ListingImageSerializer, 400: _INVALID, 404: _NOT_FOUND},
        tags=TAGS,
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Remove an image",
        description="An uploaded file is deleted; a received photo stays on its message.",
        parameters=[_IMAGE_ID],
        request=None,
        responses={204: None, 404: _NOT_FOUND},
        tags=TAGS,
    )
    @action(detail=True, methods=["patch", "delete"], url_path=r"images/(?P<image_id>[0-9]+)")
    def image_detail(self, request: AuthenticatedRequest, pk: str | None = None, image_id: str = "") -> Response:
        image = self._image(self._listing(), image_id)
        if request.method == "DELETE":
            services.listing_image_delete(organization=self.organization, image=image, by=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        serializer = ListingImageUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        image = services.listing_image_update(
            organization=self.organization, image=image, caption=serializer.validated_data["caption"]
        )
        return Response(ListingImageSerializer(image).data)

    # --- contacts -------------------------------------------------------------------------------------------------
    @extend_schema(
        methods=["GET"],
        summary="Contacts linked to the listing",
        description="Photos from a linked contact are filed under this listing automatically.",
        request=None,
        responses={200: ContactLinkSerializer(many=True), 404: _NOT_FOUND},
        tags=TAGS,
    )
    @extend_schema(
        methods=["POST"],
        summary="Link a contact to the listing",
        description="By contact id, or by phone number. A contact linked elsewhere moves to this listing.",
        request=ContactLinkCreateSerializer,
        responses={201: ContactLinkSerializer, 400: _INVALID, 404: _NOT_FOUND},
        tags=TAGS,
    )
    @action(detail=True, methods=["get", "post"], url_path="contacts")
    def contacts(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        listing = self._listing()
        if request.method == "GET":
            return Response(ContactLinkSerializer(selectors.contact_links(listing=listing), many=True).data)
        serializer = ContactLinkCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = None
        if contact_id := serializer.validated_data.get("contact"):
            contact = Contact.objects.for_organization(self.organization).filter(pk=contact_id).first()
            if contact is None:
                raise Http404("No such contact.")
        entry = services.contact_index_link(
            organization=self.organization,
            listing=listing,
            by=request.user,
            contact=contact,
            phone_number=serializer.validated_data.get("phone_number", ""),
        )
        return Response(ContactLinkSerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Unlink a contact",
        parameters=[_LINK_ID],
        request=None,
        responses={204: None, 404: _NOT_FOUND},
        tags=TAGS,
    )
    @action(detail=True, methods=["delete"], url_path=r"contacts/(?P<link_id>[0-9]+)")
    def contact_detail(self, request: Request, pk: str | None = None, link_id: str = "") -> Response:
        listing, link_pk = self._listing(), parse_id(link_id)
        entry = selectors.contact_links(listing=listing).filter(pk=link_pk).first() if link_pk is not None else None
        if entry is None:
            raise Http404("No such contact link.")
        services.contact_index_unlink(organization=self.organization, entry=entry)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- cards ----------------------------------------------------------------------------------------------------
    @extend_schema(
        summary="The listing's card",
        description="From the card cache (rebuilt when missing); image URLs are signed at each read.",
        request=None,
        responses={200: CardDisplaySerializer, 404: _NOT_FOUND},
        tags=TAGS,
    )
    @action(detail=True, methods=["get"], url_path="card-display")
    def card_display(self, request: Request, pk: str | None = None) -> Response:
        core = cards.card_cached_core(self._listing())
        return Response(CardDisplaySerializer(card_display_data(core)).data)

    @extend_schema(
        summary="The last auto-display notice",
        description="Set when photos arriving in a conversation were filed under this listing; cleared by reading.",
        request=None,
        responses={200: AutoDisplaySerializer, 404: _NOT_FOUND},
        tags=TAGS,
    )
    @action(detail=True, methods=["get"], url_path="auto-display")
    def auto_display(self, request: Request, pk: str | None = None) -> Response:
        listing = self._listing()
        notice = services.listing_auto_display_pop(organization=self.organization, listing=listing)
        card = cards.card_display(cards.card_cached_core(listing)) if notice else None
        data = {"has_notice": notice is not None, "notice": notice, "card": card}
        return Response(AutoDisplaySerializer(data).data)

    @extend_schema(
        summary="Send the listing's card into a conversation",
        description=(
            "The same as sending `listing_id` to the conversation's messages: a queued outbound `listing_card` "
            "message, delivered by the outbound pipeline with every photo the platform takes (at most ten): "
            "WhatsApp the cover photo with the caption — or, `format: interactive` (Cloud API), a button message "
            'with the cover photo as header and an "I\'m interested" button — then the other photos as image '
            "messages; Messenger / Instagram a generic-template carousel, one element per photo. A `format` the "
            "account cannot send is a 400 on `format`; 409 when the account or the platform's reply window does not "
            "allow it now (`code` says why)."
        ),
        request=SendCardSerializer,
        responses={201: MessageSerializer, 400: _INVALID, 404: _NOT_FOUND, 409: ErrorSerializer},
        tags=TAGS,
    )
    @action(detail=True, methods=["post"], url_path="send-card")
    def send_card(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        listing = self._listing()
        serializer = SendCardSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conversation = (
            Conversation.objects.for_organization(self.organization)
            .filter(pk=serializer.validated_data["conversation"])
            .first()
        )
        if conversation is None:
            raise Http404("No such conversation.")
        message = services.listing_card_send(
            organization=self.organization,
            listing=listing,
            conversation=conversation,
            by=request.user,
            card_format=serializer.validated_data.get("format"),
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class MemberOrSignedListingMedia(permissions.BasePermission):
    """A member of the organization (JWT), or anyone holding a valid signed URL for exactly this file."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request_membership(request) is not None:
            return True
        return view.signed_organization_id() is not None


class ListingMediaView(TenantScopedViewMixin[Listing], generics.GenericAPIView[Listing]):
    """`GET /api/listings/{id}/media/{filename}` — an image (or thumbnail) file of a listing."""

    permission_classes = [MemberOrSignedListingMedia]

    def scoped_queryset(self) -> QuerySet[Listing]:
        return Listing.objects.all()

    def signed_organization_id(self) -> int | None:
        token = self.request.query_params.get("sig", "")
        if not token:
            return None
        listing_id = parse_id(self.kwargs["pk"])
        if listing_id is None:
            return None
        return cards.listing_media_signature_check(token, listing_id=listing_id, filename=self.kwargs["filename"])

    @extend_schema(
        summary="A listing image file",
        description=(
            "With a JWT (members of the listing's organization), or with the signed `sig` of an image URL "
            "(`image_urls`, card images) — no header needed."
        ),
        parameters=[
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The listing id."),
            OpenApiParameter("filename", OpenApiTypes.STR, OpenApiParameter.PATH, description="The file name."),
            OpenApiParameter("sig", OpenApiTypes.STR, OpenApiParameter.QUERY, description="Signature of a URL."),
        ],
        responses={
            (200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The image."),
            404: OpenApiResponse(ErrorSerializer, description="No such image."),
        },
        tags=TAGS,
    )
    def get(self, request: Request, pk: str, filename: str) -> HttpResponseBase:
        if not _SAFE_FILENAME.fullmatch(filename) or parse_id(pk) is None:
            raise Http404("No such image.")  # '../', slashes, odd characters: never a stored name
        organization_id: int | None
        if request_membership(request) is not None:
            organization_id = self.get_object().organization_id
        else:
            organization_id = self.signed_organization_id()  # not None: MemberOrSignedListingMedia checked it
        if organization_id is None:
            raise Http404("No such image.")
        image = (
            ListingImage.objects.for_organization(organization_id)
            .filter(listing_id=int(pk))
            .filter(Q(file__endswith="/" + filename) | Q(thumbnail__endswith="/" + filename))
            .first()
        )
        if image is None:
            raise Http404("No such image.")
        if image.filename == filename:
            name, content_type = image.file.name, image.mime_type
        else:
            name, content_type = image.thumbnail.name, "image/jpeg"
        if not name:  # never: the query matched the file or the thumbnail by this name
            raise Http404("No such image.")
        return media_file_response(name=name, content_type=content_type)
