"""Walk every route of the OpenAPI schema as a user of tenant A holding tenant B's ids: every one answers 404
(or 403 for a role the route refuses anyway), and nothing of tenant B ever appears in an answer.

A new route with a path parameter must be given a tenant-B object below, or this suite fails."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from drf_spectacular.generators import SchemaGenerator

from conftest import client_for
from switchboard.accounts.models import Invitation, Membership, Role
from switchboard.assistant.models import FaqEntry
from switchboard.inbox.events import ContactProfile, InboundMessage
from switchboard.inbox.models import Attachment, AttachmentStatus, Conversation, Message
from switchboard.inbox.services.ingest import handle_events
from switchboard.listings.models import Listing
from switchboard.platforms.models import Platform

SECRET_MARK = "TENANTB-SECRET-7f3a"

# Routes that are not tenant data (auth flows, schema, webhooks signed by platforms).
PUBLIC_OR_SELF = re.compile(r"^/api/(schema|docs|redoc)/|^/api/accounts/(register|login|token/refresh|logout)/$")
SAFE_BODY = {"name": "x", "text": "x", "role": "agent", "ai_enabled": True, "display_name": "x", "full_name": "x"}


@pytest.fixture
def tenant_b(make_org, make_user, make_account):
    org_b = make_org(f"Org {SECRET_MARK}")
    owner_b = make_user(org_b, Role.OWNER, email=f"owner-{SECRET_MARK.lower()}@example.com")
    account_b = make_account(org_b, Platform.WHATSAPP, display_name=f"Line {SECRET_MARK}")
    handle_events(
        account_b,
        [
            InboundMessage(
                platform_message_id=f"wamid.{SECRET_MARK}",
                contact=ContactProfile("14155550199", name=f"Contact {SECRET_MARK}"),
                timestamp=account_b.created_at,
                text=f"Private {SECRET_MARK}",
            )
        ],
    )
    conversation = Conversation.objects.get(platform_account=account_b)
    message_b = Message.objects.get(conversation=conversation)
    listing_b = Listing.objects.create(organization=org_b, title=f"Listing {SECRET_MARK}", reference="39")
    attachment_b = Attachment.objects.create(
        organization=org_b,
        message=message_b,
        status=AttachmentStatus.STORED,
        file=f"{org_b.pk}/2026/01/{'b' * 32}.jpg",
        filename=f"{SECRET_MARK}.jpg",
    )
    # An invitation of B to an address that is not user A's: neither B's organization side nor the invitee side
    # (/me/invitations/{id}/) may answer it for A.
    invitation_b = Invitation.objects.create(
        organization=org_b,
        email=f"invitee-{SECRET_MARK.lower()}@example.com",
        invited_by=owner_b,
        sent_at=account_b.created_at,
        expires_at=account_b.created_at + timedelta(days=7),
    )
    faq_b = FaqEntry.objects.create(organization=org_b, question=f"Question {SECRET_MARK}", answer=SECRET_MARK)
    return {
        "faq": faq_b.pk,
        "invitations": invitation_b.pk,
        "listings": listing_b.pk,
        "media": attachment_b.pk,
        "conversations": conversation.pk,
        "messages": message_b.pk,
        "accounts": account_b.pk,
        "members": Membership.objects.get(user=owner_b).pk,
    }


def object_id_for(path: str, ids: dict[str, int]) -> int:
    for collection, pk in ids.items():
        if f"/{collection}/{{" in path:
            return pk
    raise AssertionError(f"{path} has a path parameter but no tenant-B object is known for it: add one")


def schema_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, method.upper())
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_schema_has_the_tenant_routes():
    paths = {path for path, _ in schema_operations()}
    assert {"/api/messages/conversations/{id}/", "/api/messages/messages/{id}/"} <= paths


@pytest.mark.parametrize("role", [Role.OWNER, Role.AGENT])
def test_every_route_refuses_another_tenants_ids(role, make_org, make_user, tenant_b):
    org_a = make_org()
    user_a = make_user(org_a, role)
    client = client_for(user_a)
    checked = 0
    for path, method in schema_operations():
        if PUBLIC_OR_SELF.search(path):
            continue
        params = re.findall(r"{(\w+)}", path)
        if not params:
            if method == "GET":
                # List endpoints, filtered by tenant-B ids where a filter takes one: nothing of B comes back.
                response = client.get(path, {"conversation": tenant_b["conversations"]})
                assert response.status_code in (200, 403), (path, response.status_code)
                assert SECRET_MARK not in response.content.decode(), f"{path} leaked tenant B data"
                checked += 1
            continue
        url = path
        for name in params:
            url = url.replace(f"{{{name}}}", str(object_id_for(path, tenant_b)))
        response = client.generic(method, url, json.dumps(SAFE_BODY), content_type="application/json")
        assert response.status_code in (404, 403), f"{method} {url} → {response.status_code}"
        assert SECRET_MARK not in response.content.decode(), f"{method} {url} leaked tenant B data"
        if response.status_code == 404:
            assert response.json()["detail"], f"{method} {url}: 404 without a JSON detail"
        checked += 1
    assert checked >= 8
    # and tenant B's rows are untouched
    assert Conversation.objects.filter(pk=tenant_b["conversations"], is_archived=False).exists()
    assert Message.objects.filter(pk=tenant_b["messages"], is_read=False).exists()
    assert Invitation.objects.filter(pk=tenant_b["invitations"], status="pending", responded_at=None).exists()
    assert FaqEntry.objects.filter(pk=tenant_b["faq"], answer=SECRET_MARK).exists()
    assert not Membership.objects.filter(user=user_a).exclude(organization=org_a).exists()
