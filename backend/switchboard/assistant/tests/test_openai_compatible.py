"""The OpenAI-compatible provider against a fake Chat Completions server on 127.0.0.1: what it sends, byte for byte,
and what it makes of the answers (text, tool calls, the model check)."""

from __future__ import annotations

import pytest
import responses

from switchboard.assistant.providers import (
    ChatMessage,
    OpenAICompatibleProvider,
    ProviderAuthError,
    ProviderBadRequest,
    ProviderConfig,
    ToolCall,
    ToolSpec,
)
from tests.fakes.llm import (
    openai_base_url,
    openai_error,
    openai_models,
    openai_text,
    openai_tool_call,
    script_openai,
    script_openai_models,
)
from tests.fakes.vendor import FakeVendor, Reply

KEY = "sk-test-4f9a1c2e7b3d8a6f5e0c9b1a2d3e4f5a"
SYSTEM = "You answer for Seaside Homes. Be brief."
QUESTION = "Is the flat at 12 Harbour Road still available?"
LOOKUP = ToolSpec(
    name="lookup_listing",
    description="Look up a listing by its reference.",
    parameters={"type": "object", "properties": {"ref": {"type": "string"}}, "required": ["ref"]},
)
LOOKUP_WIRE = {
    "type": "function",
    "function": {
        "name": "lookup_listing",
        "description": "Look up a listing by its reference.",
        "parameters": {"type": "object", "properties": {"ref": {"type": "string"}}, "required": ["ref"]},
    },
}


def provider(vendor: FakeVendor, **config: object) -> OpenAICompatibleProvider:
    settings: dict[str, object] = {"model": "gpt-4o-mini", "api_key": KEY, "base_url": openai_base_url(vendor)}
    settings.update(config)
    return OpenAICompatibleProvider(ProviderConfig(**settings))  # type: ignore[arg-type]


def test_a_plain_text_reply(vendor: FakeVendor) -> None:
    script_openai(vendor, openai_text("Yes, it is still available."))

    reply = provider(vendor, temperature=0.2, max_tokens=300).chat(
        [ChatMessage(role="system", content=SYSTEM), ChatMessage(role="user", content=QUESTION)], []
    )

    assert reply.text == "Yes, it is still available."
    assert reply.tool_calls == []
    assert reply.model == "gpt-4o-mini-2024-07-18"
    assert reply.usage == {"input_tokens": 19, "output_tokens": 10}
    assert reply.stop_reason == "stop"
    [sent] = vendor.requests("POST", r"/v1/chat/completions$")
    # No tools: neither `tools` nor `tool_choice` (OpenAI refuses tool_choice without tools).
    assert sent.json == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}],
        "max_tokens": 300,
        "temperature": 0.2,
    }
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["content-type"] == "application/json"


def test_a_tool_call_round_trip(vendor: FakeVendor) -> None:
    script_openai(
        vendor,
        openai_tool_call("lookup_listing", {"ref": "A12"}, call_id="call_Xq3Lk9"),
        openai_text("Yes: A12 is available from 1 March."),
    )
    chat = provider(vendor)
    history = [ChatMessage(role="system", content=SYSTEM), ChatMessage(role="user", content=QUESTION)]

    first = chat.chat(history, [LOOKUP])
    assert first.text == ""
    assert first.tool_calls == [ToolCall(id="call_Xq3Lk9", name="lookup_listing", arguments={"ref": "A12"})]
    assert first.stop_reason == "tool_calls"
    assert first.usage == {"input_tokens": 82, "output_tokens": 17}

    history += [
        ChatMessage(role="assistant", content=first.text, tool_calls=first.tool_calls),
        ChatMessage(
            role="tool",
            content='{"ref": "A12", "status": "available", "from": "2026-03-01"}',
            tool_call_id="call_Xq3Lk9",
            name="lookup_listing",
        ),
    ]
    second = chat.chat(history, [LOOKUP])
    assert second.text == "Yes: A12 is available from 1 March."
    assert second.tool_calls == []

    asked, answered = vendor.requests("POST", r"/v1/chat/completions$")
    assert asked.json == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}],
        "tools": [LOOKUP_WIRE],
        "tool_choice": "auto",
        "max_tokens": 1024,
    }
    assert answered.json == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": QUESTION},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_Xq3Lk9",
                        "type": "function",
                        "function": {"name": "lookup_listing", "arguments": '{"ref": "A12"}'},
                    }
                ],
            },
            {
                "role": "tool",
                "tool_call_id": "call_Xq3Lk9",
                "content": '{"ref": "A12", "status": "available", "from": "2026-03-01"}',
            },
        ],
        "tools": [LOOKUP_WIRE],
        "tool_choice": "auto",
        "max_tokens": 1024,
    }
    assert answered.headers["authorization"] == f"Bearer {KEY}"


def test_no_authorization_header_without_a_key(vendor: FakeVendor) -> None:
    """Ollama and a local vLLM take no key: nothing is sent rather than "Bearer "."""
    script_openai(vendor, openai_text("Hello!"))

    provider(vendor, api_key="", model="llama3.2").chat([ChatMessage(role="user", content="Hi")], [])

    [sent] = vendor.requests("POST", r"/chat/completions$")
    assert "authorization" not in sent.headers
    assert sent.json["model"] == "llama3.2"


def test_servers_that_send_arguments_as_an_object_and_no_call_id(vendor: FakeVendor) -> None:
    """Seen from Ollama's and some vLLM parsers' OpenAI endpoints: arguments already decoded, no id."""
    body = openai_tool_call("lookup_listing", {"ref": "A12"}).body
    call = body["choices"][0]["message"]["tool_calls"][0]
    call["function"]["arguments"] = {"ref": "A12"}
    del call["id"]
    script_openai(vendor, Reply(200, body))

    reply = provider(vendor).chat([ChatMessage(role="user", content=QUESTION)], [LOOKUP])

    assert reply.tool_calls == [ToolCall(id="call_0", name="lookup_listing", arguments={"ref": "A12"})]


def test_newer_models_get_max_completion_tokens_and_their_default_temperature(vendor: FakeVendor) -> None:
    """o-series / gpt-5 refuse `max_tokens` and any temperature but 1: the provider adapts once and remembers."""
    script_openai(
        vendor,
        openai_error(
            400,
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' "
            "instead.",
            code="unsupported_parameter",
            param="max_tokens",
        ),
        openai_error(
            400,
            "Unsupported value: 'temperature' does not support 0.3 with this model. Only the default (1) value is "
            "supported.",
            code="unsupported_value",
            param="temperature",
        ),
        openai_text("Done."),
    )
    chat = provider(vendor, model="gpt-5-mini", temperature=0.3, max_tokens=200)

    assert chat.chat([ChatMessage(role="user", content="Hi")], []).text == "Done."
    assert chat.chat([ChatMessage(role="user", content="Again")], []).text == "Done."

    bodies = [r.json for r in vendor.requests("POST", r"/chat/completions$")]
    messages = [{"role": "user", "content": "Hi"}]
    assert bodies == [
        {"model": "gpt-5-mini", "messages": messages, "max_tokens": 200, "temperature": 0.3},
        {"model": "gpt-5-mini", "messages": messages, "max_completion_tokens": 200, "temperature": 0.3},
        {"model": "gpt-5-mini", "messages": messages, "max_completion_tokens": 200},
        {"model": "gpt-5-mini", "messages": [{"role": "user", "content": "Again"}], "max_completion_tokens": 200},
    ]


def test_other_bad_requests_are_not_retried(vendor: FakeVendor) -> None:
    script_openai(vendor, openai_error(400, "Invalid 'messages[0].content': string too long.", param="messages"))

    with pytest.raises(ProviderBadRequest) as caught:
        provider(vendor).chat([ChatMessage(role="user", content="Hi")], [])

    assert caught.value.code == "bad_request"
    assert caught.value.retryable is False
    assert caught.value.status == 400
    assert len(vendor.requests("POST")) == 1


def test_unknown_model_on_chat(vendor: FakeVendor) -> None:
    script_openai(
        vendor,
        openai_error(
            404,
            "The model `gpt-9` does not exist or you do not have access to it.",
            code="model_not_found",
        ),
    )

    with pytest.raises(ProviderBadRequest) as caught:
        provider(vendor, model="gpt-9").chat([ChatMessage(role="user", content="Hi")], [])

    assert caught.value.code == "model_not_found"
    assert caught.value.retryable is False
    assert caught.value.message_for_agents == (
        "The AI provider does not offer the model 'gpt-9': check the model name in the assistant settings."
    )
    assert "does not exist" in caught.value.detail


# --- validate_credentials -------------------------------------------------------------------------------------------
def test_validate_credentials_ok(vendor: FakeVendor) -> None:
    script_openai_models(vendor, openai_models("gpt-4o", "gpt-4o-mini", "text-embedding-3-small"))

    provider(vendor).validate_credentials()

    [asked] = vendor.requests()
    assert (asked.method, asked.path) == ("GET", "/v1/models")
    assert asked.headers["authorization"] == f"Bearer {KEY}"


def test_validate_credentials_matches_ollama_tags(vendor: FakeVendor) -> None:
    script_openai_models(vendor, openai_models("llama3.2:latest", "qwen2.5:7b", owned_by="library"))

    provider(vendor, api_key="", model="llama3.2").validate_credentials()

    assert "authorization" not in vendor.requests("GET", r"/v1/models$")[0].headers


def test_validate_credentials_unknown_model(vendor: FakeVendor) -> None:
    script_openai_models(vendor, openai_models("gpt-4o", "gpt-4o-mini"))

    with pytest.raises(ProviderBadRequest) as caught:
        provider(vendor, model="gpt-4o-mini-typo").validate_credentials()

    assert caught.value.code == "model_not_found"
    assert caught.value.retryable is False
    assert "'gpt-4o-mini-typo'" in caught.value.message_for_agents
    assert caught.value.detail == "GET /models: 'gpt-4o-mini-typo' is not among the 2 listed: gpt-4o, gpt-4o-mini"
    assert vendor.requests("POST") == []


def test_validate_credentials_bad_key(vendor: FakeVendor) -> None:
    script_openai_models(
        vendor,
        openai_error(
            401,
            "Incorrect API key provided: sk-test-****************************4f5a. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        ),
    )

    with pytest.raises(ProviderAuthError) as caught:
        provider(vendor).validate_credentials()

    assert caught.value.code == "invalid_key"
    assert caught.value.retryable is False
    assert caught.value.message_for_agents == (
        "The AI provider refused the API key: check it in the assistant settings."
    )


def test_validate_credentials_without_a_models_endpoint_makes_a_one_token_chat(vendor: FakeVendor) -> None:
    """No route for GET /v1/models: the fake answers 404 like a server without the endpoint."""
    script_openai(vendor, openai_text("p"))

    provider(vendor).validate_credentials()

    listed, chatted = vendor.requests()
    assert (listed.method, listed.path) == ("GET", "/v1/models")
    assert (chatted.method, chatted.path) == ("POST", "/v1/chat/completions")
    assert chatted.json == {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "ping"}], "max_tokens": 1}


def test_validate_credentials_without_a_models_endpoint_unknown_model(vendor: FakeVendor) -> None:
    script_openai(
        vendor,
        openai_error(404, 'model "llama9" not found, try pulling it first', type="api_error"),
    )

    with pytest.raises(ProviderBadRequest) as caught:
        provider(vendor, api_key="", model="llama9").validate_credentials()

    assert caught.value.code == "model_not_found"
    assert "'llama9'" in caught.value.message_for_agents


# --- without a server -----------------------------------------------------------------------------------------------
@responses.activate
def test_the_default_base_url_is_openai() -> None:
    responses.post("https://api.openai.com/v1/chat/completions", json=openai_text("Hi there").body)

    reply = OpenAICompatibleProvider(ProviderConfig(model="gpt-4o-mini", api_key=KEY)).chat(
        [ChatMessage(role="user", content="Hi")], []
    )

    assert reply.text == "Hi there"
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {KEY}"


@responses.activate
def test_gemini_error_envelope_is_a_list() -> None:
    base = "https://generativelanguage.googleapis.com/v1beta/openai"
    responses.post(
        f"{base}/chat/completions",
        status=400,
        json=[
            {
                "error": {
                    "code": 400,
                    "message": "models/gemini-9 is not found for API version v1beta",
                    "status": "NOT_FOUND",
                }
            }
        ],
    )

    with pytest.raises(ProviderBadRequest) as caught:
        OpenAICompatibleProvider(ProviderConfig(model="gemini-9", api_key=KEY, base_url=base)).chat(
            [ChatMessage(role="user", content="Hi")], []
        )

    assert caught.value.code == "model_not_found"
    assert caught.value.detail == (
        "POST /chat/completions HTTP 400 NOT_FOUND 400: models/gemini-9 is not found for API version v1beta"
    )
