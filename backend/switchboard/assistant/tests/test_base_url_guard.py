"""The provider's base URL is no SSRF hole (providers/guard.py): under AI_ALLOW_PRIVATE_BASE_URL false a base_url
whose host is — or resolves to — a loopback, private, link-local or metadata address is refused by the credentials
test, by a reply and by a suggestion before any request (the FakeVendor on 127.0.0.1 records nothing), and saving
one is a 400 on `base_url`; AI_ALLOWED_HOSTS lets exactly its hosts be called; the connection itself goes only to
an address just checked (a DNS answer that changes meanwhile does not get through); redirects are never followed.

The suite's settings allow private addresses (conftest.py: every other test talks to FakeVendor on 127.0.0.1); the
`guarded` fixture turns that off here."""

from __future__ import annotations

import pytest

from switchboard.assistant import engine, settings_services
from switchboard.assistant.models import AssistantRun, AssistantSettings, RunOutcome
from switchboard.assistant.providers import OpenAICompatibleProvider, ProviderBadRequest, ProviderConfig, guard
from switchboard.assistant.providers.base import sentence
from switchboard.assistant.tests.test_engine_support import open_world
from switchboard.common.exceptions import Conflict
from tests.fakes.llm import (
    OPENAI_MODEL,
    openai_base_url,
    openai_models,
    openai_text,
    script_openai,
    script_openai_models,
)
from tests.fakes.vendor import FakeVendor, Reply

pytestmark = pytest.mark.django_db

URL = "/api/assistant/settings/"
TEST_URL = "/api/assistant/settings/test/"
PRIVATE = sentence("private_address")
PUBLIC_ADDRESS = "93.184.216.34"  # a public unicast address (example.com's, once)


@pytest.fixture
def guarded(settings):
    settings.AI_ALLOW_PRIVATE_BASE_URL = False
    settings.AI_ALLOWED_HOSTS = []
    return settings


@pytest.fixture
def no_dns(monkeypatch):
    """Any name lookup by the guard fails the test (IP literals and the allow list need none)."""

    def refuse(host, port):
        raise AssertionError(f"the guard looked {host} up")

    monkeypatch.setattr(guard, "resolve", refuse)


@pytest.fixture
def resolves_to(monkeypatch, vendor):
    """`resolves_to("llm.example.com", "93.184.216.34")`: the guard resolves that name so ("a,b": two records; several
    answers: one per lookup, the last repeating); connections to the public address it checked are dialled to the
    FakeVendor on 127.0.0.1 (as media.fetch's tests do)."""
    table: dict[str, list[str]] = {}
    real = guard.resolve

    def resolve(host, port):
        answers = table.get(host)
        if answers is None:
            return real(host, port)
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer.split(",")

    monkeypatch.setattr(guard, "resolve", resolve)
    monkeypatch.setattr(guard, "dial_address", lambda address: "127.0.0.1" if address == PUBLIC_ADDRESS else address)

    def add(host: str, *answers: str) -> None:
        table[host] = list(answers)

    return add


def configure(org, **fields) -> AssistantSettings:
    """Stored as an address saved before the policy changed (saving through the API would refuse it)."""
    fields.setdefault("model", OPENAI_MODEL)
    row, _ = AssistantSettings.objects.update_or_create(organization=org, defaults=fields)
    return row


def port_of(vendor: FakeVendor) -> int:
    return int(vendor.url.rsplit(":", 1)[1])


# --- the credentials test ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:{port}/v1",  # loopback: the vendor itself
        "http://[::1]:{port}/v1",
        "http://[::ffff:127.0.0.1]:{port}/v1",  # IPv4-mapped IPv6
        "http://0.0.0.0:{port}/v1",
        "http://10.0.0.5:11434/v1",  # private
        "http://172.16.3.4/v1",
        "http://192.168.1.20:8000/v1",
        "http://[fd00::1]/v1",
        "http://100.64.0.1/v1",  # shared (carrier-grade NAT): not public either
        "http://169.254.169.254/latest",  # the cloud metadata service (link-local)
        "http://[fe80::1]/v1",
        "http://224.0.0.1/v1",  # multicast
    ],
)
def test_private_loopback_link_local_and_metadata_addresses_are_refused_by_the_credentials_test(
    base_url, guarded, no_dns, org, owner_client, vendor
):
    script_openai_models(vendor, openai_models(OPENAI_MODEL))
    configure(org, base_url=base_url.format(port=port_of(vendor)))

    response = owner_client.post(TEST_URL)

    assert response.status_code == 200
    assert response.json() == {"ok": False, "code": "invalid_address", "message": PRIVATE}
    assert vendor.requests() == []


def test_a_name_that_resolves_to_loopback_is_refused(guarded, org, vendor):
    script_openai_models(vendor, openai_models(OPENAI_MODEL))
    configure(org, base_url=f"http://localhost:{port_of(vendor)}/v1")  # resolved for real: 127.0.0.1 / ::1

    result = settings_services.assistant_credentials_test(organization=org)

    assert result == {"ok": False, "code": "invalid_address", "message": PRIVATE}
    assert vendor.requests() == []


def test_one_private_record_among_public_ones_refuses_the_name(guarded, org, vendor, resolves_to):
    resolves_to("llm.example.com", f"{PUBLIC_ADDRESS},10.1.2.3")
    configure(org, base_url=f"http://llm.example.com:{port_of(vendor)}/v1")

    result = settings_services.assistant_credentials_test(organization=org)

    assert result["code"] == "invalid_address"
    assert vendor.requests() == []


def test_a_name_that_resolves_to_a_public_address_is_called_at_that_address(guarded, org, vendor, resolves_to):
    script_openai_models(vendor, openai_models(OPENAI_MODEL))
    resolves_to("llm.example.com", PUBLIC_ADDRESS)
    configure(org, base_url=f"http://llm.example.com:{port_of(vendor)}/v1", api_key="sk-test-key")

    result = settings_services.assistant_credentials_test(organization=org)

    assert result["ok"] is True, result
    (request,) = vendor.requests("GET", r"/v1/models")
    assert request.headers["host"] == f"llm.example.com:{port_of(vendor)}"  # the name, dialled at its checked address


def test_a_dns_answer_that_turns_private_after_the_check_is_refused_at_the_connection(
    guarded, org, vendor, resolves_to
):
    """DNS rebinding: public when the provider is built, loopback when it connects — the connection is refused."""
    script_openai_models(vendor, openai_models(OPENAI_MODEL))
    resolves_to("rebind.example.com", PUBLIC_ADDRESS, "127.0.0.1")
    configure(org, base_url=f"http://rebind.example.com:{port_of(vendor)}/v1")

    result = settings_services.assistant_credentials_test(organization=org)

    assert result == {"ok": False, "code": "invalid_address", "message": PRIVATE}
    assert vendor.requests() == []


def test_private_addresses_are_called_when_the_operator_allows_them(settings, org, vendor):
    settings.AI_ALLOW_PRIVATE_BASE_URL = True  # as under DEBUG (`make run`), or a self-hosted setup that opts in
    script_openai_models(vendor, openai_models(OPENAI_MODEL))
    configure(org, base_url=openai_base_url(vendor))

    result = settings_services.assistant_credentials_test(organization=org)

    assert result["ok"] is True, result
    assert len(vendor.requests("GET", r"/v1/models")) == 1


def test_a_name_that_does_not_resolve_is_unreachable(guarded, org, monkeypatch):
    def fail(host, port):
        raise OSError(f"test: no such host {host}")

    monkeypatch.setattr(guard, "resolve", fail)
    configure(org, base_url="http://nowhere.invalid/v1")

    result = settings_services.assistant_credentials_test(organization=org)

    assert result["code"] == "unreachable"


# --- replies and suggestions ------------------------------------------------------------------------------------------
@pytest.fixture
def world(org, owner, vendor, make_account, django_capture_on_commit_callbacks):
    yield from open_world(org, vendor, make_account, django_capture_on_commit_callbacks)


def test_a_reply_to_a_private_address_takes_the_failure_path_without_calling_it(world, guarded):
    script_openai(world.vendor, openai_text("Hola! Yes, it is free."))

    world.customer_says("Is the flat in Chamberí still free?")
    world.run_tasks()

    assert world.vendor.requests() == []
    run = AssistantRun.objects.get(conversation=world.conversation)
    assert (run.outcome, run.error_code, run.error_message) == (RunOutcome.FAILED, "invalid_address", PRIVATE)
    world.refresh()
    assert world.conversation.needs_human
    assert world.conversation.needs_human_reason == f"The AI assistant failed: {PRIVATE}"[:255]
    assert [m.text for m in world.replies()] == [world.settings.failure_message]


def test_a_reply_is_sent_when_private_addresses_are_allowed(world, settings):
    settings.AI_ALLOW_PRIVATE_BASE_URL = True
    script_openai(world.vendor, openai_text("Hola! Yes, it is free."))

    world.customer_says("Is the flat in Chamberí still free?")
    world.run_tasks()

    assert [m.text for m in world.replies()] == ["Hola! Yes, it is free."]


def test_a_suggestion_from_a_private_address_is_refused(world, guarded):
    with pytest.raises(Conflict) as refused:
        engine.suggest_reply(organization=world.org, conversation=world.conversation)

    assert refused.value.code == "assistant_failed"
    assert refused.value.detail == PRIVATE
    assert refused.value.extra == {"provider_code": "invalid_address"}
    assert world.vendor.requests() == []


# --- AI_ALLOWED_HOSTS -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("allowed", "host", "ok"),
    [
        (["127.0.0.1"], "127.0.0.1", True),
        (["localhost", "127.0.0.1"], "localhost", True),
        (["{port}"], "127.0.0.1", False),  # a port alone names no host
        (["127.0.0.1:{port}"], "127.0.0.1", True),
        (["127.0.0.1:{other}"], "127.0.0.1", False),
        (["localhost"], "127.0.0.1", False),  # exact names: no resolving an entry
        (["127.0.0.2", "api.openai.com"], "127.0.0.1", False),
        (["LOCALHOST."], "localhost", True),  # case and a final dot do not matter
    ],
)
def test_ai_allowed_hosts_lets_exactly_its_hosts_be_called(settings, org, vendor, allowed, host, ok):
    settings.AI_ALLOW_PRIVATE_BASE_URL = True
    port = port_of(vendor)
    settings.AI_ALLOWED_HOSTS = [entry.format(port=port, other=port + 1) for entry in allowed]
    script_openai_models(vendor, openai_models(OPENAI_MODEL))
    configure(org, base_url=f"http://{host}:{port}/v1")

    result = settings_services.assistant_credentials_test(organization=org)

    if ok:
        assert result["ok"] is True, result
        assert len(vendor.requests()) == 1
    else:
        assert result == {
            "ok": False,
            "code": "invalid_address",
            "message": sentence("host_not_allowed", host=host),
        }
        assert vendor.requests() == []


def test_the_public_endpoint_of_a_blank_base_url_must_be_listed_too(settings, org, no_dns):
    settings.AI_ALLOWED_HOSTS = ["127.0.0.1"]  # the fuzz run's setting: nothing leaves the machine
    configure(org, base_url="", api_key="sk-test-key")

    result = settings_services.assistant_credentials_test(organization=org)

    assert result == {
        "ok": False,
        "code": "invalid_address",
        "message": sentence("host_not_allowed", host="api.openai.com"),
    }


def test_an_allowed_host_is_still_checked_for_private_addresses(guarded, org, vendor):
    guarded.AI_ALLOWED_HOSTS = ["127.0.0.1"]
    configure(org, base_url=openai_base_url(vendor))

    assert settings_services.assistant_credentials_test(organization=org)["message"] == PRIVATE
    assert vendor.requests() == []


@pytest.mark.parametrize(
    ("entry", "parsed"),
    [
        ("api.openai.com", ("api.openai.com", None)),
        (" Ollama:11434 ", ("ollama", 11434)),
        ("[::1]:11434", ("::1", 11434)),
        ("[::1]", ("::1", None)),
        ("::1", ("::1", None)),
        ("10.0.0.5", ("10.0.0.5", None)),
    ],
)
def test_allowed_host_entries(entry, parsed):
    assert guard.parse_allowed_host(entry) == parsed


# --- saving through the API -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "base_url", ["http://169.254.169.254/latest/meta-data", "http://127.0.0.1:11434/v1", "http://[::1]:8000/v1"]
)
def test_saving_a_private_address_is_a_400_on_base_url(guarded, no_dns, org, owner_client, base_url):
    owner_client.get(URL)  # the default row
    response = owner_client.patch(URL, {"base_url": base_url, "model": "llama3.1"}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {"base_url": [PRIVATE]}
    row = AssistantSettings.objects.get(organization=org)
    assert (row.base_url, row.model) == ("", "gpt-4o-mini")


def test_saving_a_name_that_resolves_to_loopback_is_a_400(guarded, org, owner_client):
    response = owner_client.patch(URL, {"base_url": "http://localhost:11434/v1"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"base_url": [PRIVATE]}


def test_saving_a_public_address_is_accepted(guarded, org, owner_client, vendor, resolves_to):
    resolves_to("llm.example.com", PUBLIC_ADDRESS)

    response = owner_client.patch(URL, {"base_url": "https://llm.example.com/v1"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["base_url"] == "https://llm.example.com/v1"


def test_saving_a_host_off_the_allow_list_is_a_400_without_a_lookup(settings, no_dns, org, owner_client):
    settings.AI_ALLOWED_HOSTS = ["127.0.0.1"]

    response = owner_client.patch(URL, {"base_url": "https://llm.example.com/v1"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"base_url": [sentence("host_not_allowed", host="llm.example.com")]}


def test_a_stored_address_refused_since_does_not_block_the_other_settings(guarded, no_dns, org, owner_client):
    """The operator tightened the policy after an owner saved a local address: the owner can still turn the
    assistant off (the address is refused when it is called, not when it is kept)."""
    configure(org, base_url="http://10.0.0.5:11434/v1", is_active=True)

    response = owner_client.patch(URL, {"is_active": False, "base_url": "http://10.0.0.5:11434/v1/"}, format="json")

    assert response.status_code == 200, response.content
    assert AssistantSettings.objects.get(organization=org).is_active is False


def test_the_admin_form_refuses_a_private_address(guarded, no_dns, org):
    from switchboard.assistant.admin import AssistantSettingsForm

    form = AssistantSettingsForm(
        data={
            "organization": org.pk,
            "provider": "openai",
            "base_url": "http://169.254.169.254/v1",
            "model": "llama3.1",
            "temperature": 0.3,
            "max_tokens": 400,
            "context_size": 10,
            "answer_when": "always",
            "business_hours": "{}",
            "time_zone": "UTC",
            "reply_delay_seconds": 8,
            "failure_message": "Thanks!",
            "failure_message_enabled": "on",
            "lead_fields": '["purpose"]',
        }
    )

    assert not form.is_valid()
    assert form.errors["base_url"] == [PRIVATE]


# --- redirects --------------------------------------------------------------------------------------------------------
def test_the_providers_never_follow_a_redirect(org, vendor):
    """A public address could otherwise bounce a request to a private one: a 3xx is an answer, never followed."""
    moved = Reply(307, "", {"Location": "/v1/elsewhere"})
    script_openai_models(vendor, moved)
    vendor.on("GET", r"/v1/elsewhere", openai_models(OPENAI_MODEL))
    script_openai(vendor, moved)
    vendor.on("POST", r"/v1/elsewhere", openai_text("followed"))
    configure(org, base_url=openai_base_url(vendor))

    result = settings_services.assistant_credentials_test(organization=org)

    assert (result["ok"], result["code"]) == (False, "bad_request")
    assert [request.path for request in vendor.requests()] == ["/v1/models"]


def test_a_chat_is_not_redirected_either(vendor):
    script_openai(vendor, Reply(308, "", {"Location": "/v1/elsewhere"}))
    vendor.on("POST", r"/v1/elsewhere", openai_text("followed"))
    provider = OpenAICompatibleProvider(ProviderConfig(base_url=openai_base_url(vendor), model=OPENAI_MODEL))

    with pytest.raises(ProviderBadRequest):
        provider.chat([], [])

    assert [request.path for request in vendor.requests()] == ["/v1/chat/completions"]


def test_the_fuzz_server_may_call_only_this_machine(tmp_path):
    """`make fuzz` (tests/fuzz.py) sends whatever base_url schemathesis makes up: the server it runs calls 127.0.0.1
    at most, and refuses the rest before any name lookup."""
    from tests.fuzz import fuzz_environment

    env = fuzz_environment(tmp_path)

    assert (env["AI_ALLOWED_HOSTS"], env["AI_ALLOW_PRIVATE_BASE_URL"]) == ("127.0.0.1", "true")
