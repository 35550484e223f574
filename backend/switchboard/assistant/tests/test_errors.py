"""Every failure as one ProviderError class, the same for both providers (real HTTP against the fake on 127.0.0.1),
the API key never in what an error says, and the registry."""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from requests.structures import CaseInsensitiveDict

from switchboard.assistant.providers import (
    PROVIDERS,
    AnthropicProvider,
    ChatMessage,
    ChatReply,
    OpenAICompatibleProvider,
    Provider,
    ProviderAuthError,
    ProviderBadRequest,
    ProviderConfig,
    ProviderError,
    ProviderMalformedAnswer,
    ProviderRateLimited,
    ProviderServerError,
    ProviderUnreachable,
    ToolSpec,
    provider_for,
)
from switchboard.assistant.providers.base import VendorError, error_for_status, redact
from tests.fakes.llm import (
    anthropic_error,
    anthropic_text,
    anthropic_tool_use,
    delayed,
    openai_base_url,
    openai_error,
    openai_text,
    openai_tool_call,
    script_anthropic,
    script_openai,
)
from tests.fakes.vendor import FakeVendor, Reply, Responder, Route

KEY = "sk-live-7Hq2Wm9Xc4Rv8Tb3Ny6Pk1Zs5Jd0"
HI = [ChatMessage(role="user", content="Hi")]


@dataclass(frozen=True)
class Vendor:
    """How one vendor is driven in these tests: its provider, its route, its error envelope."""

    name: str
    cls: type[Provider]
    base_url: Callable[[FakeVendor], str]
    script: Callable[..., Route]
    error: Callable[..., Reply]  # (status, kind, message, headers=...) in the vendor's envelope
    text: Callable[[str], Reply]
    tool_call_with_bad_arguments: Reply

    def provider(self, base_url: str, **config: object) -> Provider:
        settings: dict[str, object] = {"model": "some-model", "api_key": KEY, "base_url": base_url}
        settings.update(config)
        return self.cls(ProviderConfig(**settings))  # type: ignore[arg-type]


def _openai_error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return openai_error(status, message, type=kind, headers=headers)


def _anthropic_error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return anthropic_error(status, kind, message, headers=headers)


def _anthropic_bad_input() -> Reply:
    reply = anthropic_tool_use("lookup_listing", {"ref": "A12"})
    reply.body["content"][0]["input"] = '{"ref": "A12"'  # a string, and not even JSON: not an input object
    return reply


VENDORS = [
    Vendor(
        "openai",
        OpenAICompatibleProvider,
        openai_base_url,
        script_openai,
        _openai_error,
        openai_text,
        openai_tool_call("lookup_listing", raw_arguments='{"ref": "A12"'),
    ),
    Vendor(
        "anthropic",
        AnthropicProvider,
        lambda fake: fake.url,
        script_anthropic,
        _anthropic_error,
        anthropic_text,
        _anthropic_bad_input(),
    ),
]


@pytest.fixture(params=VENDORS, ids=lambda v: v.name)
def kit(request: pytest.FixtureRequest) -> Vendor:
    return request.param


def chat_error(kit: Vendor, vendor: FakeVendor, *replies: Responder, **config: object) -> ProviderError:
    kit.script(vendor, *replies)
    with pytest.raises(ProviderError) as caught:
        kit.provider(kit.base_url(vendor), **config).chat(HI, [])
    return caught.value


def test_401_is_an_auth_error_not_retryable(kit: Vendor, vendor: FakeVendor) -> None:
    error = chat_error(kit, vendor, kit.error(401, "authentication_error", "invalid x-api-key"))

    assert type(error) is ProviderAuthError
    assert (error.code, error.retryable, error.status) == ("invalid_key", False, 401)
    assert error.message_for_agents == "The AI provider refused the API key: check it in the assistant settings."


def test_403_is_an_auth_error_about_permissions(kit: Vendor, vendor: FakeVendor) -> None:
    error = chat_error(kit, vendor, kit.error(403, "permission_error", "Your API key does not have permission."))

    assert type(error) is ProviderAuthError
    assert (error.code, error.retryable) == ("permission_denied", False)


def test_429_is_rate_limited_and_honours_retry_after(kit: Vendor, vendor: FakeVendor) -> None:
    error = chat_error(
        kit, vendor, kit.error(429, "rate_limit_error", "Rate limit reached for requests", headers={"Retry-After": "7"})
    )

    assert type(error) is ProviderRateLimited
    assert (error.code, error.retryable, error.retry_after, error.status) == ("rate_limited", True, 7.0, 429)


def test_429_without_retry_after(kit: Vendor, vendor: FakeVendor) -> None:
    error = chat_error(kit, vendor, kit.error(429, "rate_limit_error", "Slow down"))

    assert type(error) is ProviderRateLimited
    assert error.retry_after is None


def test_500_is_a_retryable_server_error(kit: Vendor, vendor: FakeVendor) -> None:
    error = chat_error(
        kit, vendor, kit.error(500, "api_error", "The server had an error while processing your request.")
    )

    assert type(error) is ProviderServerError
    assert (error.code, error.retryable, error.status) == ("server_error", True, 500)
    assert error.message_for_agents == "The AI provider had an internal problem; the assistant will try again."


def test_a_502_html_page_from_a_proxy_is_a_server_error(kit: Vendor, vendor: FakeVendor) -> None:
    error = chat_error(kit, vendor, Reply(502, "<html><body>Bad Gateway</body></html>"))

    assert type(error) is ProviderServerError
    assert error.detail.endswith("HTTP 502: <html><body>Bad Gateway</body></html>")


def test_nobody_listening_is_unreachable(kit: Vendor, dead_url: str) -> None:
    with pytest.raises(ProviderUnreachable) as caught:
        kit.provider(dead_url).chat(HI, [])

    assert (caught.value.code, caught.value.retryable, caught.value.status) == ("unreachable", True, None)
    assert caught.value.message_for_agents == (
        "The AI provider could not be reached: check its address in the assistant settings."
    )


def test_a_slow_answer_is_a_timeout(kit: Vendor, vendor: FakeVendor) -> None:
    started = time.monotonic()
    error = chat_error(kit, vendor, delayed(kit.text("too late"), 1.0), timeout_seconds=0.5)
    waited = time.monotonic() - started

    assert waited < 0.9  # gave up at the timeout, did not wait for the answer
    assert type(error) is ProviderUnreachable
    assert (error.code, error.retryable) == ("timeout", True)
    assert error.message_for_agents == "The AI provider took too long to answer; the assistant will try again."
    # Let the fake's late answer hit the closed connection while this test's output is still captured.
    time.sleep(1.2 - waited)


def test_an_address_that_is_no_url(kit: Vendor) -> None:
    with pytest.raises(ProviderBadRequest) as caught:
        kit.provider("api.example.com/v1").chat(HI, [])

    assert (caught.value.code, caught.value.retryable) == ("invalid_address", False)


def test_a_200_that_is_not_json_is_malformed(kit: Vendor, vendor: FakeVendor) -> None:
    error = chat_error(kit, vendor, Reply(200, "<html>Welcome to nginx!</html>"))

    assert type(error) is ProviderMalformedAnswer
    assert (error.code, error.retryable, error.max_retries, error.status) == ("malformed_answer", True, 1, 200)
    assert error.detail.endswith("HTTP 200, not JSON: <html>Welcome to nginx!</html>")


def test_a_200_without_the_answer_fields_is_malformed(kit: Vendor, vendor: FakeVendor) -> None:
    error = chat_error(kit, vendor, Reply(200, {"id": "x", "object": "chat.completion"}))

    assert type(error) is ProviderMalformedAnswer
    assert error.code == "malformed_answer"


def test_tool_arguments_that_are_not_a_json_object_are_malformed(kit: Vendor, vendor: FakeVendor) -> None:
    kit.script(vendor, kit.tool_call_with_bad_arguments)
    lookup = ToolSpec("lookup_listing", "Look up a listing.", {"type": "object", "properties": {}})

    with pytest.raises(ProviderMalformedAnswer) as caught:
        kit.provider(kit.base_url(vendor)).chat(HI, [lookup])

    assert caught.value.code == "malformed_answer"
    assert caught.value.retryable is True
    assert "lookup_listing" in caught.value.detail


def test_no_model_chosen_fails_before_any_request(kit: Vendor, vendor: FakeVendor) -> None:
    with pytest.raises(ProviderBadRequest) as caught:
        kit.provider(kit.base_url(vendor), model=" ").chat(HI, [])

    assert caught.value.code == "model_missing"
    assert vendor.requests() == []


# --- the key never shows ------------------------------------------------------------------------------------------
def _everything_said(error: ProviderError) -> str:
    return "\n".join([str(error), repr(error), error.detail, error.message_for_agents, *map(str, error.args)])


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(
            lambda kit: kit.error(401, "invalid_request_error", f"Incorrect API key provided: {KEY}."), id="401"
        ),
        pytest.param(
            lambda kit: kit.error(
                401, "invalid_request_error", "Incorrect API key provided: sk-live-****************Jd0."
            ),
            id="401-masked",
        ),
        pytest.param(lambda kit: kit.error(400, "invalid_request_error", f"Bad header x-api-key={KEY}"), id="400"),
        pytest.param(lambda kit: Reply(500, f"upstream failed for key {KEY}"), id="500-text"),
        pytest.param(lambda kit: Reply(200, f"not json {KEY}"), id="200-text"),
        pytest.param(lambda kit: kit.error(429, "rate_limit_error", f"{KEY} is over its limit"), id="429"),
    ],
)
def test_the_key_never_appears_in_an_error(kit: Vendor, vendor: FakeVendor, reply: Callable[[Vendor], Reply]) -> None:
    error = chat_error(kit, vendor, reply(kit))

    said = _everything_said(error)
    assert KEY not in said
    assert "Jd0." not in said  # nor the masked echo's visible end
    assert "[redacted]" in error.detail


def test_the_key_never_appears_even_as_the_model_name(kit: Vendor, vendor: FakeVendor) -> None:
    """A key pasted into the model field is echoed by the vendor's "unknown model" answer and by our sentence."""
    error = chat_error(kit, vendor, kit.error(404, "not_found_error", f"model: {KEY} does not exist"), model=KEY)

    assert KEY not in _everything_said(error)


def test_the_key_is_not_in_the_config_repr() -> None:
    config = ProviderConfig(model="gpt-4o", api_key=KEY)

    assert KEY not in repr(config)
    assert KEY not in repr(OpenAICompatibleProvider(config).__dict__)


# --- the error type itself ------------------------------------------------------------------------------------------
def test_errors_survive_pickling() -> None:
    """Celery and multiprocessing pickle exceptions; keyword-only arguments must come back too."""
    error = ProviderRateLimited("Slow down.", retry_after=7.0, detail="HTTP 429", status=429)

    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is ProviderRateLimited
    assert (copy.message_for_agents, copy.code, copy.retryable, copy.retry_after, copy.detail, copy.status) == (
        "Slow down.",
        "rate_limited",
        True,
        7.0,
        "HTTP 429",
        429,
    )


def test_str_says_the_sentence_the_code_the_status_and_the_detail() -> None:
    error = ProviderServerError(
        "The AI provider had an internal problem.", detail="POST /v1/messages: boom", status=503
    )

    assert str(error) == "The AI provider had an internal problem. [server_error, HTTP 503]: POST /v1/messages: boom"


def test_redact() -> None:
    assert redact(f"key {KEY} and again {KEY}", [KEY]) == "key [redacted] and again [redacted]"
    assert redact("Incorrect API key provided: sk-ab*****************cd9f. See docs.", []) == (
        "Incorrect API key provided: [redacted] See docs."
    )
    assert redact("nothing secret", ["", KEY]) == "nothing secret"


@pytest.mark.parametrize(
    ("status", "vendor_error", "headers", "cls", "code", "retryable", "retry_after"),
    [
        (401, VendorError("Incorrect API key provided"), {}, ProviderAuthError, "invalid_key", False, None),
        (403, VendorError("Country not supported"), {}, ProviderAuthError, "permission_denied", False, None),
        (
            429,
            VendorError("Rate limit", code="rate_limit_exceeded"),
            {"retry-after": "7"},
            ProviderRateLimited,
            "rate_limited",
            True,
            7.0,
        ),
        (
            429,
            VendorError("Rate limit"),
            {"retry-after-ms": "1500", "retry-after": "2"},
            ProviderRateLimited,
            "rate_limited",
            True,
            1.5,
        ),
        (
            429,
            VendorError("You exceeded your current quota", type="insufficient_quota", code="insufficient_quota"),
            {},
            ProviderRateLimited,
            "quota_exceeded",
            False,
            None,
        ),
        (402, VendorError("Insufficient credits"), {}, ProviderRateLimited, "quota_exceeded", False, None),
        (
            400,
            VendorError("Your credit balance is too low", type="billing_error"),
            {},
            ProviderRateLimited,
            "quota_exceeded",
            False,
            None,
        ),
        (
            404,
            VendorError("The model `gpt-9` does not exist", code="model_not_found"),
            {},
            ProviderBadRequest,
            "model_not_found",
            False,
            None,
        ),
        (400, VendorError("gpt-9 is not a valid model ID"), {}, ProviderBadRequest, "model_not_found", False, None),
        (
            404,
            VendorError("The model `x` does not exist.", type="NotFoundError"),
            {},
            ProviderBadRequest,
            "model_not_found",
            False,
            None,
        ),
        (
            400,
            VendorError("messages: text content blocks must be non-empty"),
            {},
            ProviderBadRequest,
            "bad_request",
            False,
            None,
        ),
        (404, VendorError(), {}, ProviderBadRequest, "bad_request", False, None),
        (422, VendorError("Unprocessable"), {}, ProviderBadRequest, "bad_request", False, None),
        (408, VendorError(), {}, ProviderUnreachable, "timeout", True, None),
        (500, VendorError("oops"), {}, ProviderServerError, "server_error", True, None),
        (503, VendorError("busy"), {"retry-after": "30"}, ProviderServerError, "server_error", True, 30.0),
        (529, VendorError("Overloaded", type="overloaded_error"), {}, ProviderServerError, "overloaded", True, None),
    ],
)
def test_error_for_status(
    status: int,
    vendor_error: VendorError,
    headers: dict[str, str],
    cls: type[ProviderError],
    code: str,
    retryable: bool,
    retry_after: float | None,
) -> None:
    error = error_for_status(status, vendor_error, headers=CaseInsensitiveDict(headers), model="gpt-9", secrets=[KEY])

    assert type(error) is cls
    assert (error.code, error.retryable, error.retry_after, error.status) == (code, retryable, retry_after, status)


def test_404_without_a_vendor_envelope_points_at_the_address() -> None:
    error = error_for_status(404, VendorError(), headers={}, model="gpt-4o", secrets=[], raw_text="Not Found")

    assert error.message_for_agents == (
        "The AI provider's address does not answer like an AI provider: check the address in the assistant settings."
    )
    assert error.detail == "HTTP 404: Not Found"


# --- the registry ---------------------------------------------------------------------------------------------------
def test_provider_for() -> None:
    config = ProviderConfig(model="m", api_key=KEY)

    assert type(provider_for("openai", config)) is OpenAICompatibleProvider
    assert type(provider_for("anthropic", config)) is AnthropicProvider
    assert provider_for("openai", config).config is config


def test_an_unknown_provider() -> None:
    with pytest.raises(ProviderBadRequest) as caught:
        provider_for("mistral", ProviderConfig(model="m", api_key=KEY))

    assert (caught.value.code, caught.value.retryable) == ("unknown_provider", False)
    assert caught.value.message_for_agents == (
        "The AI provider 'mistral' is not supported: choose another one in the assistant settings."
    )
    assert caught.value.detail == "known providers: anthropic, openai"


def test_adding_a_provider_is_a_class_and_a_registry_line(monkeypatch: pytest.MonkeyPatch) -> None:
    class Echo(Provider):
        name = "echo"
        default_base_url = "http://127.0.0.1:9"

        def _headers(self) -> dict[str, str]:
            return {}

        def chat(self, messages: list[ChatMessage], tools: list[ToolSpec]) -> ChatReply:
            return ChatReply(text=messages[-1].content, tool_calls=[], model=self.config.model, usage={})

        def validate_credentials(self) -> None:
            return None

    monkeypatch.setitem(PROVIDERS, "echo", Echo)

    assert provider_for("echo", ProviderConfig(model="e")).chat(HI, []).text == "Hi"
