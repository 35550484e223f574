"""The Anthropic provider against a fake Messages API on 127.0.0.1: the system field, content blocks, merged turns,
tool_use / tool_result pairing, headers, and the model check."""

from __future__ import annotations

import pytest
import responses

from switchboard.assistant.providers import (
    AnthropicProvider,
    ChatMessage,
    ProviderAuthError,
    ProviderBadRequest,
    ProviderConfig,
    ProviderServerError,
    ToolCall,
    ToolSpec,
)
from tests.fakes.llm import (
    anthropic_error,
    anthropic_model,
    anthropic_text,
    anthropic_tool_use,
    script_anthropic,
    script_anthropic_model,
)
from tests.fakes.vendor import FakeVendor

KEY = "sk-ant-api03-Zx8Qp2Lm7Tn4Vb1Rc6Wd9Ye3Uf5Ig0Ho"
MODEL = "claude-sonnet-4-20250514"
SYSTEM = "You answer for Seaside Homes. Be brief."
RULES = "Never promise a viewing time."
QUESTION = "Is the flat at 12 Harbour Road still available?"
LOOKUP = ToolSpec(
    name="lookup_listing",
    description="Look up a listing by its reference.",
    parameters={"type": "object", "properties": {"ref": {"type": "string"}}, "required": ["ref"]},
)
LOOKUP_WIRE = {
    "name": "lookup_listing",
    "description": "Look up a listing by its reference.",
    "input_schema": {"type": "object", "properties": {"ref": {"type": "string"}}, "required": ["ref"]},
}


def provider(vendor: FakeVendor, **config: object) -> AnthropicProvider:
    settings: dict[str, object] = {"model": MODEL, "api_key": KEY, "base_url": vendor.url}
    settings.update(config)
    return AnthropicProvider(ProviderConfig(**settings))  # type: ignore[arg-type]


def test_a_plain_text_reply(vendor: FakeVendor) -> None:
    script_anthropic(vendor, anthropic_text("Yes, it is still available."))

    reply = provider(vendor, temperature=0.2, max_tokens=300).chat(
        [
            ChatMessage(role="system", content=SYSTEM),
            ChatMessage(role="system", content=RULES),
            ChatMessage(role="user", content=QUESTION),
        ],
        [],
    )

    assert reply.text == "Yes, it is still available."
    assert reply.tool_calls == []
    assert reply.model == MODEL
    assert reply.usage == {"input_tokens": 25, "output_tokens": 12}
    assert reply.stop_reason == "end_turn"
    [sent] = vendor.requests("POST", r"^/v1/messages$")
    assert sent.json == {
        "model": MODEL,
        "max_tokens": 300,
        "system": f"{SYSTEM}\n\n{RULES}",
        "messages": [{"role": "user", "content": [{"type": "text", "text": QUESTION}]}],
        "temperature": 0.2,
    }
    assert sent.headers["x-api-key"] == KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.headers["content-type"] == "application/json"
    assert "authorization" not in sent.headers


def test_a_tool_call_round_trip(vendor: FakeVendor) -> None:
    script_anthropic(
        vendor,
        anthropic_tool_use(
            "lookup_listing", {"ref": "A12"}, tool_id="toolu_01D7FLrfh4GYq7yT1ULFeyMV", text="Let me check."
        ),
        anthropic_text("Yes: A12 is available from 1 March."),
    )
    chat = provider(vendor)
    history = [ChatMessage(role="system", content=SYSTEM), ChatMessage(role="user", content=QUESTION)]

    first = chat.chat(history, [LOOKUP])
    assert first.text == "Let me check."
    assert first.tool_calls == [
        ToolCall(id="toolu_01D7FLrfh4GYq7yT1ULFeyMV", name="lookup_listing", arguments={"ref": "A12"})
    ]
    assert first.stop_reason == "tool_use"
    assert first.usage == {"input_tokens": 384, "output_tokens": 58}

    history += [
        ChatMessage(role="assistant", content=first.text, tool_calls=first.tool_calls),
        ChatMessage(
            role="tool",
            content='{"ref": "A12", "status": "available"}',
            tool_call_id="toolu_01D7FLrfh4GYq7yT1ULFeyMV",
            name="lookup_listing",
        ),
    ]
    second = chat.chat(history, [LOOKUP])
    assert second.text == "Yes: A12 is available from 1 March."

    asked, answered = vendor.requests("POST", r"^/v1/messages$")
    assert asked.json == {
        "model": MODEL,
        "max_tokens": 1024,
        "system": SYSTEM,
        "messages": [{"role": "user", "content": [{"type": "text", "text": QUESTION}]}],
        "tools": [LOOKUP_WIRE],
    }
    assert answered.json == {
        "model": MODEL,
        "max_tokens": 1024,
        "system": SYSTEM,
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": QUESTION}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Let me check."},
                    {
                        "type": "tool_use",
                        "id": "toolu_01D7FLrfh4GYq7yT1ULFeyMV",
                        "name": "lookup_listing",
                        "input": {"ref": "A12"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_01D7FLrfh4GYq7yT1ULFeyMV",
                        "content": '{"ref": "A12", "status": "available"}',
                    }
                ],
            },
        ],
        "tools": [LOOKUP_WIRE],
    }
    assert answered.headers["x-api-key"] == KEY


def test_consecutive_turns_of_one_role_are_merged(vendor: FakeVendor) -> None:
    """The API requires user / assistant alternation: two customer messages in a row, or two tool results, become one
    message of several blocks; empty text is left out (the API refuses it)."""
    script_anthropic(vendor, anthropic_text("Both are free."))
    calls = [
        ToolCall("toolu_1", "lookup_listing", {"ref": "A12"}),
        ToolCall("toolu_2", "lookup_listing", {"ref": "B7"}),
    ]

    provider(vendor).chat(
        [
            ChatMessage(role="user", content="Hi"),
            ChatMessage(role="user", content="Are A12 and B7 free?"),
            ChatMessage(role="assistant", content="", tool_calls=calls),
            ChatMessage(role="tool", content="A12: available", tool_call_id="toolu_1"),
            ChatMessage(role="tool", content="B7: available", tool_call_id="toolu_2"),
            ChatMessage(role="user", content="  "),
        ],
        [LOOKUP],
    )

    [sent] = vendor.requests("POST", r"^/v1/messages$")
    assert "system" not in sent.json
    assert sent.json["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": "Are A12 and B7 free?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "lookup_listing", "input": {"ref": "A12"}},
                {"type": "tool_use", "id": "toolu_2", "name": "lookup_listing", "input": {"ref": "B7"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "A12: available"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "B7: available"},
            ],
        },
    ]


def test_a_base_url_copied_with_v1_works(vendor: FakeVendor) -> None:
    script_anthropic(vendor, anthropic_text("Hello"))

    assert provider(vendor, base_url=vendor.url + "/v1/").chat([ChatMessage(role="user", content="Hi")], []).text == (
        "Hello"
    )
    assert [r.path for r in vendor.requests()] == ["/v1/messages"]


def test_unknown_model_on_chat(vendor: FakeVendor) -> None:
    script_anthropic(vendor, anthropic_error(404, "not_found_error", "model: claude-nope"))

    with pytest.raises(ProviderBadRequest) as caught:
        provider(vendor, model="claude-nope").chat([ChatMessage(role="user", content="Hi")], [])

    assert caught.value.code == "model_not_found"
    assert caught.value.message_for_agents == (
        "The AI provider does not offer the model 'claude-nope': check the model name in the assistant settings."
    )
    assert caught.value.detail == "POST /v1/messages HTTP 404 not_found_error: model: claude-nope"


def test_overloaded_is_a_retryable_server_error(vendor: FakeVendor) -> None:
    script_anthropic(vendor, anthropic_error(529, "overloaded_error", "Overloaded"))

    with pytest.raises(ProviderServerError) as caught:
        provider(vendor).chat([ChatMessage(role="user", content="Hi")], [])

    assert caught.value.code == "overloaded"
    assert caught.value.retryable is True
    assert caught.value.status == 529


# --- validate_credentials -------------------------------------------------------------------------------------------
def test_validate_credentials_ok(vendor: FakeVendor) -> None:
    script_anthropic_model(vendor, anthropic_model(MODEL))

    provider(vendor).validate_credentials()

    [asked] = vendor.requests()
    assert (asked.method, asked.path) == ("GET", f"/v1/models/{MODEL}")
    assert asked.headers["x-api-key"] == KEY
    assert asked.headers["anthropic-version"] == "2023-06-01"


def test_validate_credentials_unknown_model(vendor: FakeVendor) -> None:
    script_anthropic_model(vendor, anthropic_error(404, "not_found_error", "model: claude-sonet-4"))

    with pytest.raises(ProviderBadRequest) as caught:
        provider(vendor, model="claude-sonet-4").validate_credentials()

    assert caught.value.code == "model_not_found"
    assert caught.value.retryable is False
    assert "'claude-sonet-4'" in caught.value.message_for_agents
    assert vendor.requests()[0].path == "/v1/models/claude-sonet-4"


def test_validate_credentials_unknown_model_whatever_the_404_says(vendor: FakeVendor) -> None:
    script_anthropic_model(
        vendor, anthropic_error(404, "not_found_error", "The requested resource could not be found.")
    )

    with pytest.raises(ProviderBadRequest) as caught:
        provider(vendor, model="claude-x").validate_credentials()

    assert caught.value.code == "model_not_found"
    assert caught.value.status == 404


def test_validate_credentials_bad_key(vendor: FakeVendor) -> None:
    script_anthropic_model(vendor, anthropic_error(401, "authentication_error", "invalid x-api-key"))

    with pytest.raises(ProviderAuthError) as caught:
        provider(vendor).validate_credentials()

    assert caught.value.code == "invalid_key"
    assert caught.value.retryable is False
    assert caught.value.detail == f"GET /v1/models/{MODEL} HTTP 401 authentication_error: invalid x-api-key"


# --- without a server -----------------------------------------------------------------------------------------------
@responses.activate
def test_the_default_base_url_is_anthropic() -> None:
    responses.post("https://api.anthropic.com/v1/messages", json=anthropic_text("Hi there").body)

    reply = AnthropicProvider(ProviderConfig(model=MODEL, api_key=KEY)).chat(
        [ChatMessage(role="user", content="Hi")], []
    )

    assert reply.text == "Hi there"
    assert responses.calls[0].request.headers["x-api-key"] == KEY
