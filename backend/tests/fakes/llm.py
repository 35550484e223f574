"""Language model vendors on the fake server (tests/fakes/vendor.py): answers shaped exactly as OpenAI's Chat
Completions API and Anthropic's Messages API give them, and route installers.

    with FakeVendor() as vendor:
        script_openai(vendor, openai_tool_call("lookup_listing", {"ref": "A12"}), openai_text("It is free."))
        provider = OpenAICompatibleProvider(ProviderConfig(model="gpt-4o-mini", base_url=openai_base_url(vendor)))
        ...
        vendor.requests("POST", r"/chat/completions$")[0].json["messages"]

OpenAI-compatible routes live under /v1 (as OpenAI and Ollama serve them), Anthropic's at /v1/messages and
/v1/models/{model}, so one fake can play either vendor. `delayed()` makes a reply wait, to test read timeouts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from tests.fakes.vendor import FakeVendor, Reply, Request, Responder, Route

OPENAI_MODEL = "gpt-4o-mini-2024-07-18"
ANTHROPIC_MODEL = "claude-sonnet-4-20250514"
OPENAI_PREFIX = "/v1"


def openai_base_url(vendor: FakeVendor) -> str:
    """The base URL an OpenAI-compatible provider takes to reach the routes below (like `https://api.openai.com/v1`)."""
    return vendor.url + OPENAI_PREFIX


# --- OpenAI Chat Completions ------------------------------------------------------------------------------------------
def _completion(message: dict[str, Any], finish_reason: str, model: str, usage: tuple[int, int]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion",
        "created": 1741570283,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": usage[0] + usage[1]},
        "service_tier": "default",
        "system_fingerprint": "fp_06737a9306",
    }


def openai_text(text: str, *, model: str = OPENAI_MODEL, usage: tuple[int, int] = (19, 10)) -> Reply:
    """A plain answer (`finish_reason: "stop"`)."""
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None, "annotations": []}
    return Reply(200, _completion(message, "stop", model, usage))


def openai_tool_call(
    name: str,
    arguments: dict[str, Any] | None = None,
    call_id: str = "call_12345xyz",
    *,
    raw_arguments: str | None = None,
    model: str = OPENAI_MODEL,
    usage: tuple[int, int] = (82, 17),
) -> Reply:
    """The model asks for one tool (`content: null`, `finish_reason: "tool_calls"`). `arguments` is sent as the JSON
    string OpenAI sends; `raw_arguments` sends that string verbatim instead (to send arguments that are not JSON)."""
    encoded = raw_arguments if raw_arguments is not None else json.dumps(arguments or {})
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": call_id, "type": "function", "function": {"name": name, "arguments": encoded}}],
        "refusal": None,
        "annotations": [],
    }
    return Reply(200, _completion(message, "tool_calls", model, usage))


def openai_error(
    status: int,
    message: str,
    type: str = "invalid_request_error",
    code: str | None = None,
    *,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """OpenAI's error envelope, e.g. 401 `openai_error(401, "Incorrect API key provided: sk-ab***cd.",
    code="invalid_api_key")`, 404 `code="model_not_found"`, 429 `type="requests", code="rate_limit_exceeded"`."""
    return Reply(status, {"error": {"message": message, "type": type, "param": param, "code": code}}, headers or {})


def openai_models(*ids: str, owned_by: str = "openai") -> Reply:
    """`GET /v1/models`."""
    data = [{"id": model_id, "object": "model", "created": 1686935002, "owned_by": owned_by} for model_id in ids]
    return Reply(200, {"object": "list", "data": data})


def script_openai(vendor: FakeVendor, *replies: Responder) -> Route:
    """`POST /v1/chat/completions` answers `replies` in order (the last one repeats)."""
    return vendor.on("POST", rf"{OPENAI_PREFIX}/chat/completions", *replies)


def script_openai_models(vendor: FakeVendor, *replies: Responder) -> Route:
    """`GET /v1/models` answers `replies`. Without it the fake answers 404, as a server without the endpoint."""
    return vendor.on("GET", rf"{OPENAI_PREFIX}/models", *replies)


# --- Anthropic Messages -----------------------------------------------------------------------------------------------
def _message(content: list[dict[str, Any]], stop_reason: str, model: str, usage: tuple[int, int]) -> dict[str, Any]:
    return {
        "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": usage[0],
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": usage[1],
        },
    }


def anthropic_text(text: str, *, model: str = ANTHROPIC_MODEL, usage: tuple[int, int] = (25, 12)) -> Reply:
    """A plain answer (`stop_reason: "end_turn"`)."""
    return Reply(200, _message([{"type": "text", "text": text}], "end_turn", model, usage))


def anthropic_tool_use(
    name: str,
    input: dict[str, Any],
    tool_id: str = "toolu_01A09q90qw90lq917835lq9",
    *,
    text: str = "",
    model: str = ANTHROPIC_MODEL,
    usage: tuple[int, int] = (384, 58),
) -> Reply:
    """The model asks for one tool (`stop_reason: "tool_use"`), after a sentence of `text` when given (as Claude often
    does)."""
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    content.append({"type": "tool_use", "id": tool_id, "name": name, "input": input})
    return Reply(200, _message(content, "tool_use", model, usage))


def anthropic_error(status: int, type: str, message: str, *, headers: dict[str, str] | None = None) -> Reply:
    """Anthropic's error envelope, e.g. `anthropic_error(401, "authentication_error", "invalid x-api-key")`,
    `anthropic_error(404, "not_found_error", "model: claude-nope")`, 529 `"overloaded_error"`."""
    body = {"type": "error", "error": {"type": type, "message": message}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}
    return Reply(status, body, headers or {})


def anthropic_model(model_id: str = ANTHROPIC_MODEL, display_name: str = "Claude Sonnet 4") -> Reply:
    """`GET /v1/models/{model_id}`."""
    return Reply(
        200, {"type": "model", "id": model_id, "display_name": display_name, "created_at": "2025-05-22T00:00:00Z"}
    )


def anthropic_models(*ids: str) -> Reply:
    """`GET /v1/models` (the list; the provider does not need it, for completeness of the fake)."""
    data = [{"type": "model", "id": i, "display_name": i, "created_at": "2025-05-22T00:00:00Z"} for i in ids]
    first, last = (ids[0], ids[-1]) if ids else (None, None)
    return Reply(200, {"data": data, "has_more": False, "first_id": first, "last_id": last})


def script_anthropic(vendor: FakeVendor, *replies: Responder) -> Route:
    """`POST /v1/messages` answers `replies` in order (the last one repeats)."""
    return vendor.on("POST", r"/v1/messages", *replies)


def script_anthropic_model(vendor: FakeVendor, *replies: Responder) -> Route:
    """`GET /v1/models/{any model}` answers `replies`."""
    return vendor.on("GET", r"/v1/models/[^/]+", *replies)


# --- timing -----------------------------------------------------------------------------------------------------------
def delayed(reply: Reply, seconds: float) -> Callable[[Request], Reply]:
    """`reply`, sent after `seconds` (the server thread sleeps; the client may have given up by then)."""

    def respond(request: Request) -> Reply:
        time.sleep(seconds)
        return reply

    return respond
