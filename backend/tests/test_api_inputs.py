"""Issue 8 §2: no input gives a 5xx, and the API never answers HTML.

Each case below was a 500, an HTML page or an empty 400 before; the expected status and JSON body are written out.
They run on the suite's database (SQLite by default, PostgreSQL under CI=true), and `make fuzz` sends the same
kinds of input to every operation of the schema.
"""

from __future__ import annotations

import base64
import json

import pytest
import requests

from conftest import client_for
from switchboard.accounts.models import Role
from switchboard.inbox.events import ContactProfile, InboundMessage
from switchboard.inbox.services.ingest import handle_events
from switchboard.listings.models import Listing
from tests.live.servers import running_server, server_env

CONVERSATIONS = "/api/messages/conversations/"
MESSAGES = "/api/messages/messages/"
TOO_BIG = "9223372036854775808"  # 2**63: one past the largest id
TOO_SMALL = "-9223372036854775809"
NOT_FOUND = {"detail": "Not found.", "code": "not_found"}
UNKNOWN_ORGANIZATION = {
    "detail": "The organization named in X-Organization was not found among your memberships.",
    "code": "unknown_organization",
}
INVALID_CURSOR = "Invalid cursor: send back a `next` or `previous` link exactly as the server gave it."


def invalid(field: str, message: str) -> dict:
    return {"detail": f"Invalid input. {field}: {message}", "code": "invalid", "errors": {field: [message]}}


@pytest.fixture
def owner_in_org(make_org, make_user):
    org = make_org()
    return org, make_user(org, Role.OWNER)


@pytest.fixture
def client(owner_in_org):
    return client_for(owner_in_org[1])


@pytest.fixture
def inbox(owner_in_org, make_account):
    """Two conversations of one message each, so both lists have two pages of one."""
    org, _ = owner_in_org
    account = make_account(org)
    handle_events(
        account,
        [
            InboundMessage(
                platform_message_id=f"wamid.{n}",
                contact=ContactProfile(f"1415555010{n}", name=f"Contact {n}"),
                timestamp=account.created_at,
                text=f"Message {n}",
            )
            for n in range(2)
        ],
    )
    return account


def json_of(response) -> dict:
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    return json.loads(response.content)


# --- integers out of range --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "field", "value", "message"),
    [
        (CONVERSATIONS, "platform_account", TOO_BIG, "Ensure this value is less than or equal to 9223372036854775807."),
        (CONVERSATIONS, "platform_account", TOO_SMALL, "Ensure this value is greater than or equal to 1."),
        (MESSAGES, "conversation", TOO_BIG, "Ensure this value is less than or equal to 9223372036854775807."),
        (MESSAGES, "conversation", TOO_SMALL, "Ensure this value is greater than or equal to 1."),
        (MESSAGES, "conversation", "1.5", "Enter a whole number."),
    ],
)
def test_an_id_filter_out_of_range_is_a_400_naming_it(client, inbox, url, field, value, message):
    response = client.get(url, {field: value})

    assert response.status_code == 400
    assert json_of(response) == invalid(field, message)


@pytest.mark.parametrize("pk", [TOO_BIG, "99999999999999999999999", "-1", "0", "abc", "1.5", "²"])
@pytest.mark.parametrize(
    "template",
    [
        "/api/messages/conversations/{}/",
        "/api/messages/messages/{}/",
        "/api/listings/{}/",
        "/api/platforms/accounts/{}/",
        "/api/accounts/members/{}/",
        "/api/media/{}/",
        "/api/listings/1/images/{}/",
        "/api/listings/{}/media/photo.jpg",
    ],
)
def test_an_id_in_a_path_that_names_no_row_is_a_json_404(client, template, pk):
    response = client.get(template.format(pk)) if "images" not in template else client.patch(template.format(pk))

    assert response.status_code == 404
    assert json_of(response) == NOT_FOUND


def test_an_id_in_a_body_out_of_range_is_a_400_naming_it(client, owner_in_org):
    org, _owner = owner_in_org
    listing = Listing.objects.create(organization=org, title="Flat")

    response = client.post(f"/api/listings/{listing.pk}/send-card/", {"conversation": TOO_BIG}, format="json")

    assert response.status_code == 400
    assert json_of(response) == invalid(
        "conversation", "Ensure this value is less than or equal to 9223372036854775807."
    )


# --- X-Organization ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [TOO_BIG, "-1", "0", "²", "no-such-agency", "bad\x00slug", "x" * 300])
def test_an_x_organization_that_names_none_of_yours_is_a_json_404(client, header):
    response = client.get(CONVERSATIONS, HTTP_X_ORGANIZATION=header)

    assert response.status_code == 404
    assert json_of(response) == UNKNOWN_ORGANIZATION


def test_x_organization_still_picks_an_organization_by_id_or_slug(owner_in_org, make_org):
    org, owner = owner_in_org
    client = client_for(owner)

    assert client.get(CONVERSATIONS, HTTP_X_ORGANIZATION=str(org.pk)).status_code == 200
    assert client.get(CONVERSATIONS, HTTP_X_ORGANIZATION=org.slug).status_code == 200
    assert client.get(CONVERSATIONS, HTTP_X_ORGANIZATION=str(make_org().pk)).status_code == 404


# --- cursors and page sizes -------------------------------------------------------------------------------------


def cursor(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize("url", [CONVERSATIONS, MESSAGES])
@pytest.mark.parametrize(
    "value",
    [
        cursor(b"p=notadate"),
        cursor(b"p=9999-12-31T23:59:59-05:00"),  # parses, but is past year 9999 in UTC
        cursor(b"p=2026-01-01T00:00:00&o=x"),
        cursor(b"r=yes"),
        "not base64 at all!",
        cursor(b"p=\x00"),
    ],
)
def test_a_tampered_cursor_is_a_400(client, inbox, url, value):
    response = client.get(url, {"cursor": value})

    assert response.status_code == 400
    assert json_of(response) == invalid("cursor", INVALID_CURSOR)


@pytest.mark.parametrize("url", [CONVERSATIONS, MESSAGES])
def test_the_cursors_the_server_gives_still_walk_the_list(client, inbox, url):
    first = client.get(url, {"page_size": 1}).json()
    second = client.get(first["next"])

    assert second.status_code == 200
    assert [item["id"] for item in second.json()["results"]] != [item["id"] for item in first["results"]]


@pytest.mark.parametrize("url", [CONVERSATIONS, MESSAGES, "/api/listings/"])
@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "²"])
def test_a_malformed_page_size_is_a_400(client, url, value):
    response = client.get(url, {"page_size": value})

    assert response.status_code == 400
    assert json_of(response) == invalid("page_size", "A whole number of at least 1.")


def test_a_page_size_above_the_maximum_is_capped(client, inbox):
    response = client.get(MESSAGES, {"page_size": "100000000000000000000000"})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 2


@pytest.mark.parametrize("value", ["abc", "0", "-2"])
def test_a_page_that_is_no_number_is_a_400(client, value):
    response = client.get("/api/listings/", {"page": value})

    assert response.status_code == 400
    assert json_of(response) == invalid("page", "A whole number of at least 1, or 'last'.")


def test_a_page_past_the_last_is_a_json_404(client):
    response = client.get("/api/listings/", {"page": "7"})

    assert response.status_code == 404
    assert json_of(response) == {"detail": "Invalid page.", "code": "not_found"}


# --- URLs no route matches --------------------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/listings/abc/"),
        ("get", "/api/listings/abc/images/"),
        ("delete", "/api/listings/1/images/abc/"),
        ("get", "/api/media/abc/"),
        ("get", "/api/media/abc/url/"),
        *[(method, url) for method in ("get", "post", "delete") for url in ("/api/nothing/", "/api/listings/0.5/")],
    ],
)
def test_an_unknown_api_url_is_the_json_404_also_under_debug(settings, client, debug, method, url):
    settings.DEBUG = debug

    response = getattr(client, method)(url)

    assert response.status_code == 404
    assert json_of(response) == NOT_FOUND


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("method", ["get", "post"])  # a POST redirect was a RuntimeError page under DEBUG
def test_a_missing_trailing_slash_is_a_json_404_naming_the_url(settings, client, debug, method):
    settings.DEBUG = debug

    response = getattr(client, method)("/api/listings")

    assert response.status_code == 404
    assert json_of(response) == {"detail": "Not found. API URLs end with a slash: /api/listings/", "code": "not_found"}


def test_paths_outside_the_api_still_belong_to_the_web_app(client):
    response = client.get("/inbox/42")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_django_error_handlers_answer_json_under_api(rf):
    from switchboard.common import errors

    api, page = rf.get("/api/anything/"), rf.get("/inbox/")

    assert json_of(errors.server_error(api)) == {"detail": "Server error.", "code": "server_error"}
    assert errors.server_error(api).status_code == 500
    assert json_of(errors.bad_request(api)) == {
        "detail": "Malformed request.",
        "code": "parse_error",
        "errors": {"non_field_errors": ["Malformed request."]},
    }
    assert json_of(errors.permission_denied(api))["code"] == "permission_denied"
    assert errors.server_error(page)["Content-Type"].startswith("text/html")


# --- bodies -----------------------------------------------------------------------------------------------------

EMPTY_MULTIPART = b"--xyz--\r\n"  # what an HTTP client sends for a form with no fields


@pytest.mark.parametrize(
    ("action", "field", "message"),
    [("images", "file", "No file was submitted."), ("send-card", "conversation", "This field is required.")],
)
def test_an_empty_multipart_body_is_a_json_400(client, owner_in_org, action, field, message):
    org, _ = owner_in_org
    listing = Listing.objects.create(organization=org, title="Flat")

    response = client.post(
        f"/api/listings/{listing.pk}/{action}/", EMPTY_MULTIPART, content_type="multipart/form-data; boundary=xyz"
    )

    assert response.status_code == 400
    assert json_of(response) == invalid(field, message)


@pytest.mark.live
def test_daphne_hands_an_empty_multipart_body_to_the_api(db):
    """Twisted under daphne parsed multipart bodies itself and answered this one with a bare 400 (no body, no
    Content-Type) before Django saw it (switchboard/common/http_server.py)."""
    with running_server("daphne", server_env()) as base_url:
        response = requests.post(
            f"{base_url}/api/accounts/login/",
            data=EMPTY_MULTIPART,
            headers={"Content-Type": "multipart/form-data; boundary=xyz"},
            timeout=10,
        )

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["errors"] == {"email": ["This field is required."], "password": ["This field is required."]}


def test_a_malformed_json_body_is_a_400_with_errors(client):
    response = client.post("/api/listings/", b'{"title": ', content_type="application/json")

    assert response.status_code == 400
    body = json_of(response)
    assert body["code"] == "parse_error"
    assert body["errors"] == {"non_field_errors": [body["detail"]]}


def test_a_nul_character_in_a_json_body_is_a_400(client):
    response = client.post("/api/listings/", {"title": "Flat", "data": {"note": "a\x00b"}}, format="json")

    assert response.status_code == 400
    assert json_of(response) == {
        "detail": "JSON parse error - strings may not contain NUL (\\u0000) characters.",
        "code": "parse_error",
        "errors": {"non_field_errors": ["JSON parse error - strings may not contain NUL (\\u0000) characters."]},
    }


def test_a_nul_character_in_a_form_field_is_a_400(client):
    response = client.post("/api/listings/", {"title": "Flat", "data": '{"note": "a\\u0000b"}'})

    assert response.status_code == 400
    assert json_of(response) == invalid("data", "Strings may not contain NUL (\\u0000) characters.")


def test_a_body_over_the_upload_limit_is_a_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = client.post("/api/listings/", {"title": "x" * 200}, format="json")

    assert response.status_code == 413
    assert json_of(response) == {"detail": "The request body exceeds 100 bytes.", "code": "too_large"}


def test_a_multipart_field_over_the_upload_limit_is_a_413(client, settings, owner_in_org):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = client.post("/api/listings/", {"title": "x" * 200})  # multipart: Django's own limit

    assert response.status_code == 413
    assert json_of(response) == {"detail": "The request body exceeds 100 bytes.", "code": "too_large"}


def test_nested_validation_errors_are_named_by_path(client, inbox):
    from switchboard.inbox.models import Conversation

    conversation = Conversation.objects.filter(platform_account=inbox).first()

    response = client.post(
        f"/api/messages/conversations/{conversation.pk}/messages/",
        {"template": {"language": "en_US", "components": [{"type": "body"}, {"parameters": []}]}},
        format="json",
    )

    assert response.status_code == 400
    assert json_of(response)["errors"] == {
        "template.name": ["This field is required."],
        "template.components.1.type": ["This field is required."],
    }
