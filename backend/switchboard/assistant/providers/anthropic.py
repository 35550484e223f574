"""The Anthropic Messages API (Claude).

* Chat: `POST {base_url}/v1/messages` with headers `x-api-key`, `anthropic-version: 2023-06-01`,
  `content-type: application/json` and `{"model", "max_tokens" (required), "system", "messages", "tools": [{name,
  description, input_schema}], "temperature"}`. The system prompt is a top-level field, not a message; messages must
  alternate user / assistant, so consecutive turns of one role are merged into one message of content blocks.
* Answer: `{"content": [{"type": "text", "text"} | {"type": "tool_use", "id", "name", "input"}], "stop_reason",
  "model", "usage": {"input_tokens", "output_tokens"}}`; other block types (thinking…) are not the reply: skipped.
* Tool results go back as a *user* message of `{"type": "tool_result", "tool_use_id", "content"}` blocks, after the
  assistant message that carries the `tool_use` blocks.
* Errors: `{"type": "error", "error": {"type": "not_found_error" | "authentication_error" | ..., "message"}}`; an
  unknown model is a 404 `not_found_error` whose message starts "model:"; 529 `overloaded_error` is transient.
* Check: `GET {base_url}/v1/models/{model}` (200 `{"type": "model", "id", ...}`, 404 unknown model, 401 bad key).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from switchboard.assistant.providers.base import (
    ChatMessage,
    ChatReply,
    Provider,
    ProviderBadRequest,
    ToolCall,
    ToolSpec,
    VendorError,
    empty_schema,
    token_usage,
)

API_VERSION = "2023-06-01"


class AnthropicProvider(Provider):
    name = "anthropic"
    default_base_url = "https://api.anthropic.com"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Paths carry their own /v1: accept a base URL copied with it ("https://api.anthropic.com/v1") too.
        if self.base_url.endswith("/v1"):
            self.base_url = self.base_url[: -len("/v1")]

    def _headers(self) -> dict[str, str]:
        headers = {"anthropic-version": API_VERSION, "content-type": "application/json", "accept": "application/json"}
        if self.config.api_key:  # Anthropic-compatible servers on the local network may take none
            headers["x-api-key"] = self.config.api_key
        return headers

    def _vendor_error(self, body: Any) -> VendorError:
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return VendorError()
        message, kind = error.get("message"), error.get("type")
        message = message if isinstance(message, str) else ""
        kind = kind if isinstance(kind, str) else ""
        model_missing = kind == "not_found_error" and message.lower().startswith("model:")
        return VendorError(message=message, type=kind, model_missing=model_missing)

    # --- chat -----------------------------------------------------------------------------------------------------
    def chat(self, messages: list[ChatMessage], tools: list[ToolSpec]) -> ChatReply:
        self._require_model()
        return self._reply(self._call("POST", "/v1/messages", self._request_body(messages, tools)))

    def _request_body(self, messages: list[ChatMessage], tools: list[ToolSpec]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.config.model, "max_tokens": self.config.max_tokens}
        system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content.strip())
        if system:
            body["system"] = system
        body["messages"] = _turns(messages)
        if tools:
            body["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": empty_schema(t.parameters)}
                for t in tools
            ]
        if self.config.temperature is not None:
            body["temperature"] = self.config.temperature
        return body

    def _reply(self, answer: Any) -> ChatReply:
        if not isinstance(answer, dict) or not isinstance(answer.get("content"), list):
            raise self._malformed("the answer has no content list")
        texts: list[str] = []
        calls: list[ToolCall] = []
        for index, block in enumerate(answer["content"]):
            if not isinstance(block, dict):
                raise self._malformed(f"content block {index} is not an object")
            if block.get("type") == "text":
                if not isinstance(block.get("text"), str):
                    raise self._malformed(f"text block {index} has no text")
                texts.append(block["text"])
            elif block.get("type") == "tool_use":
                tool_id, name, arguments = block.get("id"), block.get("name"), block.get("input")
                if not (isinstance(tool_id, str) and tool_id and isinstance(name, str) and name):
                    raise self._malformed(f"tool_use block {index} has no id or name")
                if not isinstance(arguments, dict):
                    raise self._malformed(f"tool_use block {index} ({name}): input is not a JSON object")
                calls.append(ToolCall(id=tool_id, name=name, arguments=arguments))
        model = answer.get("model")
        stop_reason = answer.get("stop_reason")
        return ChatReply(
            # Text blocks are pieces of one answer (citations split it), so they join without a separator.
            text="".join(texts),
            tool_calls=calls,
            model=model if isinstance(model, str) and model else self.config.model,
            usage=token_usage(answer.get("usage"), "input_tokens", "output_tokens"),
            stop_reason=stop_reason if isinstance(stop_reason, str) else "",
        )

    # --- check ----------------------------------------------------------------------------------------------------
    def validate_credentials(self) -> None:
        self._require_model()
        path = f"/v1/models/{quote(self.config.model, safe='')}"
        try:
            answer = self._call("GET", path)
        except ProviderBadRequest as error:
            if error.status == 404 and error.code != "model_not_found":
                # On this endpoint a 404 means the model, whatever words the body uses.
                raise self._fail(ProviderBadRequest, "model_not_found", error.detail, status=404) from error
            raise
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            raise self._malformed(f"GET {path}: the answer has no model id")


def _turns(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """Our messages as alternating user / assistant messages of content blocks."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        blocks: list[dict[str, Any]] = []
        if message.role == "tool":
            role = "user"
            block: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id}
            if message.content:  # the API refuses empty text; no content at all is allowed
                block["content"] = message.content
            blocks.append(block)
        else:
            role = message.role
            # Whitespace-only text blocks are refused by the API, so they are left out.
            if message.content.strip():
                blocks.append({"type": "text", "text": message.content})
            if message.role == "assistant":
                blocks.extend(
                    {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
                    for call in message.tool_calls
                )
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return turns
