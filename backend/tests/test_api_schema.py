"""Issue 8 §3: the OpenAPI schema says what the server does — the error statuses of every operation, one error
shape, `uri` fields that are URIs or null, and lists that are lists. `make fuzz` checks the same against a running
server for every operation; these pin the rules."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from conftest import client_for
from switchboard.accounts.models import Role
from switchboard.inbox.events import ContactProfile, InboundMessage
from switchboard.inbox.services.ingest import handle_events
from switchboard.listings.models import Listing
from switchboard.listings.services import contact_index_link

ERROR = {"$ref": "#/components/schemas/Error"}
VALIDATION_ERROR = {"$ref": "#/components/schemas/ValidationError"}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def response_schema(schema, path: str, method: str, status: str) -> dict:
    return schema["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]


def test_a_detail_operation_declares_401_403_and_404_with_the_error_shape(schema):
    responses = schema["paths"]["/api/messages/conversations/{id}/"]["get"]["responses"]

    assert set(responses) == {"200", "400", "401", "403", "404"}  # 400: messages_limit
    for status in ("401", "403", "404"):
        assert responses[status]["content"]["application/json"]["schema"] == ERROR


def test_a_write_declares_400_413_and_415(schema):
    responses = schema["paths"]["/api/listings/{id}/"]["patch"]["responses"]

    assert {"400", "401", "403", "404", "409", "413", "415"} <= set(responses)
    assert response_schema(schema, "/api/listings/{id}/", "patch", "400") == VALIDATION_ERROR


def test_an_operation_without_input_declares_no_400(schema):
    assert "400" not in schema["paths"]["/api/messages/messages/{id}/"]["get"]["responses"]


def test_throttled_operations_declare_429(schema):
    assert "429" in schema["paths"]["/api/accounts/login/"]["post"]["responses"]


def test_public_operations_declare_no_401_they_cannot_answer(schema):
    assert "401" not in schema["paths"]["/api/media/{id}/signed/"]["get"]["responses"]


def test_every_operation_declares_only_json_error_bodies_of_the_two_shapes(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    content = response.get("content", {})
                    assert set(content) == {"application/json"}, (method, path, status)
                    if status == "400":
                        assert content["application/json"]["schema"] == VALIDATION_ERROR, (method, path)


def test_the_error_components_are_the_handlers_shape(schema):
    components = schema["components"]["schemas"]

    assert components["Error"]["required"] == ["detail", "code"]
    assert components["ValidationError"]["required"] == ["detail", "code", "errors"]
    assert components["ValidationError"]["properties"]["errors"]["additionalProperties"] == {
        "type": "array",
        "items": {"type": "string"},
    }


def test_operations_that_act_for_an_organization_take_x_organization(schema):
    parameters = schema["paths"]["/api/listings/"]["get"]["parameters"]

    assert {"in": "header", "name": "X-Organization"}.items() <= next(
        p for p in parameters if p["name"] == "X-Organization"
    ).items()


def test_integer_path_ids_carry_the_id_range(schema):
    (parameter,) = [p for p in schema["paths"]["/api/listings/{id}/"]["get"]["parameters"] if p["in"] == "path"]

    assert parameter["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1, "format": "int64"}


def test_filters_and_pagination_are_declared_for_lists_only(schema):
    names = lambda path, method: {p["name"] for p in schema["paths"][path][method].get("parameters", [])}  # noqa: E731

    assert {"page", "page_size", "status", "search"} <= names("/api/listings/", "get")
    assert names("/api/listings/{id}/images/reorder/", "post") == {"id", "X-Organization"}
    assert names("/api/platforms/accounts/{id}/sync-runs/", "get") == {"id", "limit", "X-Organization"}


# --- what the server answers matches ----------------------------------------------------------------------------


@pytest.fixture
def tenant(make_org, make_user, make_account):
    org = make_org()
    owner = make_user(org, Role.OWNER)
    account = make_account(org)
    handle_events(
        account,
        [
            InboundMessage(
                platform_message_id="wamid.1",
                contact=ContactProfile("14155550100", name="Maria"),  # no profile picture: stored as ""
                timestamp=account.created_at,
                text="Hello",
            )
        ],
    )
    return org, owner


def test_conversation_uri_fields_are_null_not_empty(schema, tenant):
    _org, owner = tenant
    client = client_for(owner)

    listed = client.get("/api/messages/conversations/").json()["results"][0]
    detail = client.get(f"/api/messages/conversations/{listed['id']}/").json()

    contact_schema = schema["components"]["schemas"]["Contact"]["properties"]["profile_picture_url"]
    assert contact_schema["format"] == "uri" and contact_schema["nullable"] is True
    assert listed["contact"]["profile_picture_url"] is None
    assert detail["contact"]["profile_picture_url"] is None


def test_a_stored_picture_url_is_answered_and_garbage_is_null(tenant):
    from switchboard.inbox.models import Contact

    org, owner = tenant
    client = client_for(owner)
    contact = Contact.objects.get(organization=org)

    contact.profile_picture_url = "https://cdn.example.com/p/1.jpg"
    contact.save(update_fields=["profile_picture_url"])
    assert client.get("/api/messages/conversations/").json()["results"][0]["contact"]["profile_picture_url"] == (
        "https://cdn.example.com/p/1.jpg"
    )

    contact.profile_picture_url = "not a url"
    contact.save(update_fields=["profile_picture_url"])
    assert client.get("/api/messages/conversations/").json()["results"][0]["contact"]["profile_picture_url"] is None


def test_listing_contacts_is_a_plain_list_in_the_schema_and_the_answer(schema, tenant):
    from switchboard.inbox.models import Contact

    org, owner = tenant
    listing = Listing.objects.create(organization=org, title="Flat")
    contact_index_link(
        organization=org, listing=listing, by=owner, contact=Contact.objects.get(organization=org), phone_number=""
    )

    answer = client_for(owner).get(f"/api/listings/{listing.pk}/contacts/").json()

    assert response_schema(schema, "/api/listings/{id}/contacts/", "get", "200") == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/ContactLink"},
    }
    assert isinstance(answer, list) and len(answer) == 1


def test_a_parse_error_answer_has_the_declared_errors_key(schema, tenant):
    _org, owner = tenant

    response = client_for(owner).post("/api/listings/", b"{", content_type="application/json")

    assert response.status_code == 400
    required = schema["components"]["schemas"]["ValidationError"]["required"]
    assert set(required) <= set(response.json())
