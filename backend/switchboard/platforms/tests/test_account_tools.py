"""The account pages' tools: `webhook_url` in the account JSON, `POST …/test/` (the connection test) and
`GET …/templates/` (the WhatsApp templates). Vendors are mocked with `responses`: nothing leaves the machine."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from conftest import client_for
from switchboard.accounts.models import Role
from switchboard.platforms.models import Platform, PlatformAccount, Provider
from switchboard.webhooks import testing

URL = "/api/platforms/accounts/"
GRAPH = "https://graph.example.test"
TWILIO = "https://api.twilio.example.test"
CONTENT = "https://content.twilio.example.test"
WABA = "102290129340398"
PHONE_ID = "106540352242922"


def tool(account: PlatformAccount, name: str) -> str:
    return f"{URL}{account.pk}/{name}/"


@pytest.fixture(autouse=True)
def vendors(settings):
    settings.GRAPH_API_BASE = GRAPH
    settings.GRAPH_API_VERSION = "v21.0"
    settings.TWILIO_API_BASE = TWILIO
    settings.TWILIO_CONTENT_API_BASE = CONTENT
    settings.PUBLIC_BASE_URL = ""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield mocked


@pytest.fixture
def cloud(make_account, org):
    return make_account(org, Platform.WHATSAPP, Provider.META, external_id=PHONE_ID, business_account_id=WABA,
                        credentials={"access_token": "EAAG-cloud"})  # fmt: skip


@pytest.fixture
def twilio(make_account, org):
    return make_account(org, Platform.WHATSAPP, Provider.TWILIO, external_id="+14155238886",
                        credentials={"account_sid": testing.TWILIO_ACCOUNT_SID,
                                     "auth_token": testing.TWILIO_AUTH_TOKEN})  # fmt: skip


@pytest.fixture
def bridge(make_account, org):
    return make_account(org, Platform.WHATSAPP, Provider.BRIDGE, external_id="agency-main",
                        credentials={"base_url": "http://bridge.example.test", "api_key": "bridge-key"})  # fmt: skip


def graph_error(code: int, status: int = 400) -> dict:
    return {"json": {"error": {"message": "boom", "type": "OAuthException", "code": code, "fbtrace_id": "T1"}},
            "status": status}  # fmt: skip


# --- webhook_url ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("platform", "provider", "path"),
    [
        (Platform.WHATSAPP, Provider.META, "/api/webhooks/whatsapp/"),
        (Platform.WHATSAPP, Provider.TWILIO, "/api/webhooks/twilio/"),
        (Platform.WHATSAPP, Provider.BRIDGE, "/api/whatsapp/callback"),
        (Platform.WHATSAPP, Provider.SANDBOX, "/api/webhooks/sandbox/whatsapp/"),
        (Platform.MESSENGER, Provider.META, "/api/webhooks/messenger/"),
        (Platform.MESSENGER, Provider.SANDBOX, "/api/webhooks/sandbox/messenger/"),
        (Platform.INSTAGRAM, Provider.META, "/api/webhooks/instagram/"),
        (Platform.INSTAGRAM, Provider.SANDBOX, "/api/webhooks/sandbox/instagram/"),
    ],
)
def test_webhook_url_is_public_base_url_plus_the_endpoint_path(agent_client, org, make_account, settings, platform,
                                                               provider, path):  # fmt: skip
    account = make_account(org, platform, provider, external_id="acct-1" if provider != Provider.META else "555")
    settings.PUBLIC_BASE_URL = "https://inbox.agency.example/"

    assert agent_client.get(f"{URL}{account.pk}/").json()["webhook_url"] == f"https://inbox.agency.example{path}"
    [listed] = agent_client.get(URL).json()
    assert listed["webhook_url"] == f"https://inbox.agency.example{path}"


def test_without_public_base_url_the_webhook_url_uses_the_requests_origin(owner_client, agent_client, cloud):
    assert agent_client.get(f"{URL}{cloud.pk}/").json()["webhook_url"] == "http://testserver/api/webhooks/whatsapp/"
    created = owner_client.post(URL, {"platform": "messenger", "provider": "sandbox", "display_name": "Try",
                                      "external_id": "try-page"}, format="json")  # fmt: skip
    assert created.status_code == 201, created.content
    assert created.json()["webhook_url"] == "http://testserver/api/webhooks/sandbox/messenger/"
    changed = owner_client.patch(f"{URL}{created.json()['id']}/", {"display_name": "Try 2"}, format="json")
    assert changed.json()["webhook_url"] == "http://testserver/api/webhooks/sandbox/messenger/"


# --- the connection test ----------------------------------------------------------------------------------------------
def test_a_cloud_number_that_answers_passes_and_clears_needs_reconnect(owner_client, cloud, vendors):
    PlatformAccount.objects.filter(pk=cloud.pk).update(needs_reconnect=True, last_error="token expired")
    vendors.get(f"{GRAPH}/v21.0/{PHONE_ID}", json={"id": PHONE_ID, "display_phone_number": "+1 555-078-3881",
                                                   "verified_name": "Acme Realty"})  # fmt: skip

    response = owner_client.post(tool(cloud, "test"))

    assert response.status_code == 200
    assert response.json() == {"ok": True, "detail": "Connected: Acme Realty · +1 555-078-3881."}
    assert vendors.calls[0].request.headers["Authorization"] == "Bearer EAAG-cloud"
    cloud.refresh_from_db()
    assert (cloud.needs_reconnect, cloud.last_error) == (False, "")


def test_refused_credentials_fail_the_test_and_mark_the_account(owner_client, cloud, vendors):
    vendors.get(f"{GRAPH}/v21.0/{PHONE_ID}", **graph_error(190, status=401))

    response = owner_client.post(tool(cloud, "test"))

    assert response.status_code == 200
    assert response.json() == {
        "ok": False,
        "detail": "The account's access token expired or was revoked: reconnect the account.",
    }
    cloud.refresh_from_db()
    assert cloud.needs_reconnect is True
    assert cloud.last_error == "The account's access token expired or was revoked: reconnect the account."


def test_a_network_problem_fails_the_test_but_changes_nothing(owner_client, cloud, vendors):
    vendors.get(f"{GRAPH}/v21.0/{PHONE_ID}", body=requests.ConnectionError("no route to host"))

    response = owner_client.post(tool(cloud, "test"))

    assert response.json() == {"ok": False, "detail": "The platform could not be reached (a network problem or a "
                                                      "timeout)."}  # fmt: skip
    cloud.refresh_from_db()
    assert cloud.needs_reconnect is False


def test_another_refusal_names_the_vendors_code(owner_client, cloud, vendors):
    vendors.get(f"{GRAPH}/v21.0/{PHONE_ID}", **graph_error(100))
    assert owner_client.post(tool(cloud, "test")).json() == {
        "ok": False,
        "detail": "The platform refused the test call (error 100).",
    }


@pytest.mark.parametrize(("platform", "node"), [(Platform.MESSENGER, "109876543210987"), (Platform.INSTAGRAM, "me")])
def test_messenger_and_instagram_read_their_node(owner_client, org, make_account, vendors, platform, node):
    account = make_account(org, platform, Provider.META, external_id="109876543210987",
                           credentials={"access_token": "page-token"})  # fmt: skip
    vendors.get(f"{GRAPH}/v21.0/{node}", json={"id": "109876543210987", "name": "Acme Realty Page"})

    assert owner_client.post(tool(account, "test")).json() == {"ok": True, "detail": "Connected as Acme Realty Page."}
    assert parse_qs(urlsplit(vendors.calls[0].request.url).query) == {"fields": ["id,name"]}


def test_twilio_reads_its_account_and_a_refused_token_marks_it(owner_client, twilio, vendors):
    url = f"{TWILIO}/2010-04-01/Accounts/{testing.TWILIO_ACCOUNT_SID}.json"
    vendors.get(url, json={"sid": testing.TWILIO_ACCOUNT_SID, "friendly_name": "Acme", "status": "active"})
    assert owner_client.post(tool(twilio, "test")).json() == {"ok": True, "detail": "Connected to the Twilio account "
                                                                                    "Acme."}  # fmt: skip
    assert vendors.calls[0].request.headers["Authorization"].startswith("Basic ")

    vendors.replace(responses.GET, url, json={"code": 20003, "message": "Authenticate", "status": 401}, status=401)
    assert owner_client.post(tool(twilio, "test")).json() == {
        "ok": False,
        "detail": "Twilio refused the account's credentials: reconnect the account.",
    }
    twilio.refresh_from_db()
    assert twilio.needs_reconnect is True


def test_a_suspended_twilio_account_fails_the_test(owner_client, twilio, vendors):
    vendors.get(f"{TWILIO}/2010-04-01/Accounts/{testing.TWILIO_ACCOUNT_SID}.json",
                json={"friendly_name": "Acme", "status": "suspended"})  # fmt: skip
    assert owner_client.post(tool(twilio, "test")).json() == {
        "ok": False,
        "detail": "The connection test failed: the Twilio account is suspended.",
    }


BRIDGE_UP = {"ok": True, "detail": "Connected: the bridge session is WORKING."}
BRIDGE_QR = {
    "ok": False,
    "detail": "The connection test failed: the bridge session is SCAN_QR_CODE, not WORKING (start it, or scan its "
    "QR code).",
}
BRIDGE_REFUSED = {"ok": False, "detail": "The bridge refused the account's API key: reconnect the account."}


@pytest.mark.parametrize(
    ("reply", "expected", "reconnect"),
    [
        ({"json": {"name": "agency-main", "status": "WORKING"}}, BRIDGE_UP, False),
        ({"json": {"name": "agency-main", "status": "SCAN_QR_CODE"}}, BRIDGE_QR, False),
        ({"json": {"error": "unauthorized"}, "status": 401}, BRIDGE_REFUSED, True),
    ],
)
def test_a_bridge_reports_its_session(owner_client, bridge, vendors, reply, expected, reconnect):
    vendors.get("http://bridge.example.test/api/sessions/agency-main", **reply)
    assert owner_client.post(tool(bridge, "test")).json() == expected
    assert vendors.calls[0].request.headers["X-Api-Key"] == "bridge-key"
    bridge.refresh_from_db()
    assert bridge.needs_reconnect is reconnect


def test_a_sandbox_account_always_passes_without_a_vendor(owner_client, org, make_account, vendors):
    account = make_account(org, Platform.INSTAGRAM, Provider.SANDBOX, external_id="try-ig", credentials={})
    assert owner_client.post(tool(account, "test")).json() == {
        "ok": True,
        "detail": "A sandbox account: there is no vendor to reach, so it is always connected.",
    }
    assert len(vendors.calls) == 0


def test_a_disconnected_account_is_not_tested(owner_client, cloud, vendors):
    PlatformAccount.objects.filter(pk=cloud.pk).update(is_active=False)
    assert owner_client.post(tool(cloud, "test")).json()["ok"] is False
    assert len(vendors.calls) == 0


def test_only_owners_and_admins_test_and_other_tenants_accounts_are_404(agent_client, make_org, make_user,
                                                                       make_account, cloud, vendors):  # fmt: skip
    assert agent_client.post(tool(cloud, "test")).status_code == 403
    other_org = make_org()
    theirs = make_account(other_org, Platform.WHATSAPP, Provider.SANDBOX, external_id="their-sandbox")
    assert client_for(make_user(cloud.organization, Role.ADMIN)).post(tool(theirs, "test")).status_code == 404
    assert client_for(make_user(other_org, Role.OWNER)).post(tool(theirs, "test")).json()["ok"] is True
    assert len(vendors.calls) == 0


# --- templates --------------------------------------------------------------------------------------------------------
CLOUD_PAGE_1 = {
    "data": [
        {
            "name": "viewing_follow_up",
            "language": "en_US",
            "category": "UTILITY",
            "status": "APPROVED",
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Your viewing"},
                {"type": "BODY", "text": "Hi {{1}}, thanks for visiting {{2}}. See you again, {{1}}?"},
                {"type": "FOOTER", "text": "Acme Realty"},
            ],
            "id": "1",
        }
    ],
    "paging": {"cursors": {"before": "b1", "after": "a1"}, "next": f"{GRAPH}/v21.0/{WABA}/message_templates?after=a1"},
}
CLOUD_PAGE_2 = {
    "data": [
        {"name": "hello_world", "language": "en_US", "category": "UTILITY", "status": "APPROVED",
         "components": [{"type": "BODY", "text": "Hello World"}], "id": "2"},
        {"name": "hola", "language": "es", "category": "MARKETING", "status": "APPROVED", "components": [], "id": "3"},
    ],
    "paging": {"cursors": {"before": "b2", "after": "a2"}},
}  # fmt: skip


def test_cloud_templates_are_read_page_by_page_and_cached(agent_client, owner_client, cloud, vendors):
    url = f"{GRAPH}/v21.0/{WABA}/message_templates"

    def page(request):
        after = parse_qs(urlsplit(request.url).query).get("after")
        return 200, {}, json.dumps(CLOUD_PAGE_2 if after == ["a1"] else CLOUD_PAGE_1)

    vendors.add_callback(responses.GET, url, callback=page)

    response = agent_client.get(tool(cloud, "templates"))

    assert response.status_code == 200, response.content
    assert response.json() == [
        {"name": "hello_world", "display_name": "hello_world", "language": "en_US", "category": "UTILITY",
         "status": "APPROVED", "body": "Hello World", "parameter_count": 0},
        {"name": "hola", "display_name": "hola", "language": "es", "category": "MARKETING", "status": "APPROVED",
         "body": "", "parameter_count": 0},
        {"name": "viewing_follow_up", "display_name": "viewing_follow_up", "language": "en_US",
         "category": "UTILITY", "status": "APPROVED",
         "body": "Hi {{1}}, thanks for visiting {{2}}. See you again, {{1}}?", "parameter_count": 2},
    ]  # fmt: skip
    first = parse_qs(urlsplit(vendors.calls[0].request.url).query)
    assert first == {"status": ["APPROVED"], "fields": ["name,language,category,status,components"], "limit": ["100"]}
    assert parse_qs(urlsplit(vendors.calls[1].request.url).query)["after"] == ["a1"]
    assert vendors.calls[0].request.headers["Authorization"] == "Bearer EAAG-cloud"

    # Cached: the platform is not asked again for ten minutes …
    assert agent_client.get(tool(cloud, "templates")).json() == response.json()
    assert len(vendors.calls) == 2
    # … unless the credentials change.
    changed = owner_client.patch(f"{URL}{cloud.pk}/", {"credentials": {"access_token": "EAAG-new"}}, format="json")
    assert changed.status_code == 200
    assert agent_client.get(tool(cloud, "templates")).status_code == 200
    assert len(vendors.calls) == 4
    assert vendors.calls[2].request.headers["Authorization"] == "Bearer EAAG-new"


CONTENT_PAGE_1 = {
    "contents": [
        {
            "sid": "HX" + "a" * 32,
            "friendly_name": "viewing_follow_up",
            "language": "en",
            "variables": {"1": "Maya", "2": "12 Oak Street"},
            "types": {"twilio/text": {"body": "Hi {{1}}, how was {{2}}?"}},
            "approval_requests": {"name": "viewing_follow_up", "category": "UTILITY", "status": "approved",
                                  "content_type": "twilio/text", "rejection_reason": ""},
        },
        {
            "sid": "HX" + "b" * 32,
            "friendly_name": "draft_promo",
            "language": "en",
            "types": {"twilio/text": {"body": "Sale!"}},
            "approval_requests": {"status": "pending", "category": "MARKETING"},
        },
    ],
    "meta": {"next_page_url": f"{CONTENT}/v1/ContentAndApprovals?PageSize=500&PageToken=PT2", "key": "contents"},
}  # fmt: skip
CONTENT_PAGE_2 = {
    "contents": [
        {
            "sid": "HX" + "c" * 32,
            "friendly_name": "card_listing",
            "language": "es",
            "variables": {"1": "x"},
            "types": {"twilio/card": {"title": "New home", "body": "Mira {{1}}"}, "twilio/media": {"media": []}},
            "approval_requests": {"whatsapp": {"name": "card_listing", "category": "MARKETING", "status": "approved"}},
        }
    ],
    "meta": {"next_page_url": "https://elsewhere.example/v1/ContentAndApprovals?PageToken=PT3", "key": "contents"},
}  # fmt: skip


def test_twilio_templates_are_the_approved_content_templates(agent_client, twilio, vendors):
    url = f"{CONTENT}/v1/ContentAndApprovals"

    def page(request):
        token = parse_qs(urlsplit(request.url).query).get("PageToken")
        return 200, {}, json.dumps(CONTENT_PAGE_2 if token == ["PT2"] else CONTENT_PAGE_1)

    vendors.add_callback(responses.GET, url, callback=page)

    response = agent_client.get(tool(twilio, "templates"))

    assert response.status_code == 200, response.content
    assert response.json() == [
        {"name": "HX" + "c" * 32, "display_name": "card_listing", "language": "es", "category": "MARKETING",
         "status": "approved", "body": "Mira {{1}}", "parameter_count": 1},
        {"name": "HX" + "a" * 32, "display_name": "viewing_follow_up", "language": "en", "category": "UTILITY",
         "status": "approved", "body": "Hi {{1}}, how was {{2}}?", "parameter_count": 2},
    ]  # fmt: skip
    # Two pages on the Content API's own host; the off-host next page was not followed.
    assert [urlsplit(call.request.url).netloc for call in vendors.calls] == [urlsplit(CONTENT).netloc] * 2
    assert parse_qs(urlsplit(vendors.calls[0].request.url).query) == {"PageSize": ["500"]}
    assert vendors.calls[0].request.headers["Authorization"].startswith("Basic ")


def test_sandbox_numbers_list_the_demo_templates(agent_client, org, make_account, vendors):
    account = make_account(org, Platform.WHATSAPP, Provider.SANDBOX, external_id="try-wa", credentials={})
    response = agent_client.get(tool(account, "templates"))
    assert response.status_code == 200
    assert [(t["name"], t["language"], t["parameter_count"]) for t in response.json()] == [
        ("hello_world", "en_US", 0),
        ("new_listing_alert", "en_US", 3),
        ("viewing_follow_up", "en_US", 2),
    ]
    assert len(vendors.calls) == 0


@pytest.mark.parametrize(
    ("platform", "provider"),
    [
        (Platform.MESSENGER, Provider.META),
        (Platform.INSTAGRAM, Provider.META),
        (Platform.MESSENGER, Provider.SANDBOX),
        (Platform.WHATSAPP, Provider.BRIDGE),
    ],
)
def test_accounts_without_templates_are_404(agent_client, org, make_account, vendors, platform, provider):
    account = make_account(org, platform, provider, external_id="acct-9" if provider != Provider.META else "999")
    response = agent_client.get(tool(account, "templates"))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert len(vendors.calls) == 0


def test_a_cloud_number_without_its_business_account_id_is_a_409(agent_client, cloud, vendors):
    PlatformAccount.objects.filter(pk=cloud.pk).update(business_account_id="")
    response = agent_client.get(tool(cloud, "templates"))
    assert (response.status_code, response.json()["code"]) == (409, "business_account_id_missing")
    assert len(vendors.calls) == 0


def test_refused_credentials_are_a_409_and_mark_the_account(agent_client, cloud, vendors):
    vendors.get(f"{GRAPH}/v21.0/{WABA}/message_templates", **graph_error(190, status=401))

    response = agent_client.get(tool(cloud, "templates"))

    assert (response.status_code, response.json()["code"]) == (409, "account_needs_reconnect")
    cloud.refresh_from_db()
    assert cloud.needs_reconnect is True
    # Marked: the next read does not call the platform.
    assert agent_client.get(tool(cloud, "templates")).status_code == 409
    assert len(vendors.calls) == 1


UNREACHABLE = "The platform could not be reached (a network problem or a timeout)."


@pytest.mark.parametrize(
    ("reply", "detail"),
    [
        (graph_error(2, status=503), "The platform is busy or unreachable right now."),
        ({"body": requests.ConnectionError("refused")}, UNREACHABLE),
        (graph_error(200), "The platform refused to list the templates (error 200)."),
        ({"body": "<html>bad gateway</html>", "status": 502}, "The platform is busy or unreachable right now."),
    ],
)
def test_vendor_failures_are_a_502_never_a_500(agent_client, cloud, vendors, reply, detail):
    vendors.get(f"{GRAPH}/v21.0/{WABA}/message_templates", **reply)
    response = agent_client.get(tool(cloud, "templates"))
    assert response.status_code == 502
    assert response.json() == {"detail": detail, "code": "templates_unavailable"}
    cloud.refresh_from_db()
    assert cloud.needs_reconnect is False


def test_a_disconnected_account_lists_no_templates(agent_client, cloud, vendors):
    PlatformAccount.objects.filter(pk=cloud.pk).update(is_active=False)
    response = agent_client.get(tool(cloud, "templates"))
    assert (response.status_code, response.json()["code"]) == (409, "account_disconnected")


def test_another_tenants_templates_are_404(agent_client, make_org, make_account, vendors):
    theirs = make_account(make_org(), Platform.WHATSAPP, Provider.SANDBOX, external_id="their-wa", credentials={})
    assert agent_client.get(tool(theirs, "templates")).status_code == 404


@pytest.mark.parametrize(
    ("api_base", "content_base", "expected"),
    [
        ("https://api.twilio.com", "", "https://content.twilio.com"),  # production: Twilio's own hosts
        ("http://127.0.0.1:9", "", "http://127.0.0.1:9"),  # a test or proxy host serves the Content API too
        ("http://127.0.0.1:9", "https://content.proxy.example/", "https://content.proxy.example"),
    ],
)
def test_the_content_api_host(settings, api_base, content_base, expected):
    from switchboard.whatsapp.twilio_api import twilio_content_base

    settings.TWILIO_API_BASE = api_base
    settings.TWILIO_CONTENT_API_BASE = content_base
    assert twilio_content_base() == expected
