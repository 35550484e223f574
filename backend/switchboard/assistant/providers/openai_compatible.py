"""The OpenAI Chat Completions API, and every server that copies it: OpenAI, Ollama, vLLM, OpenRouter, Gemini.

* Chat: `POST {base_url}/chat/completions` with `{"model", "messages", "tools": [{"type": "function", "function":
  {name, description, parameters}}], "tool_choice": "auto", "max_tokens", "temperature"}`. The answer's
  `choices[0].message` has `content` (None when the model only calls tools) and `tool_calls[]` of `{"id", "type":
  "function", "function": {"name", "arguments"}}` where `arguments` is a JSON *string*. History goes back as assistant
  messages with the same `tool_calls` and `role: "tool"` messages with `tool_call_id`.
* Credentials: `Authorization: Bearer <key>`, only when a key is set (Ollama and a local vLLM take none).
* Errors: `{"error": {"message", "type", "param", "code"}}` (OpenAI, Ollama, OpenRouter, recent vLLM); older vLLM
  puts the fields at the top level, Gemini wraps the envelope in a list.
* Check: `GET {base_url}/models` lists the models (`{"data": [{"id"}]}`); a server without it (404) gets a 1-token chat.

Base URLs: OpenAI `https://api.openai.com/v1` (the default), Ollama `http://127.0.0.1:11434/v1`, OpenRouter
`https://openrouter.ai/api/v1`, Gemini `https://generativelanguage.googleapis.com/v1beta/openai`.
"""

from __future__ import annotations

import json
from typing import Any

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
    tool_arguments,
)

# Newer OpenAI models (o-series, gpt-5) refuse `max_tokens` for `max_completion_tokens`, and any temperature but their
# default; the other servers know only `max_tokens`. Ask the common way first and adapt once to what the vendor says.
MAX_TOKENS = "max_tokens"
MAX_COMPLETION_TOKENS = "max_completion_tokens"


class OpenAICompatibleProvider(Provider):
    name = "openai"
    default_base_url = "https://api.openai.com/v1"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._token_field = MAX_TOKENS
        self._send_temperature = True

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        return headers

    def _vendor_error(self, body: Any) -> VendorError:
        if isinstance(body, list) and body and isinstance(body[0], dict):  # Gemini: [{"error": {...}}]
            body = body[0]
        if not isinstance(body, dict):
            return VendorError()
        error = body.get("error", body)  # old vLLM: {"object": "error", "message", "type", "code"} at the top
        if isinstance(error, str):  # some proxies: {"error": "text"}
            return VendorError(message=error)
        if not isinstance(error, dict):
            return VendorError()
        return VendorError(
            message=_text(error.get("message")),
            type=_text(error.get("type") or error.get("status")),
            code=_text(error.get("code")),
            param=_text(error.get("param")),
        )

    # --- chat -----------------------------------------------------------------------------------------------------
    def chat(self, messages: list[ChatMessage], tools: list[ToolSpec]) -> ChatReply:
        self._require_model()
        return self._reply(self._completion(messages, tools))

    def _completion(self, messages: list[ChatMessage], tools: list[ToolSpec], max_tokens: int = 0) -> Any:
        """`POST /chat/completions`, asked again after each 400 the request could be adapted to (`_adapt_to`)."""
        while True:
            body = self._request_body(messages, tools, max_tokens)
            try:
                return self._call("POST", "/chat/completions", body)
            except ProviderBadRequest as error:
                if not self._adapt_to(error):
                    raise

    def _request_body(self, messages: list[ChatMessage], tools: list[ToolSpec], max_tokens: int = 0) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.config.model, "messages": [_message(m) for m in messages]}
        if tools:
            body["tools"] = [{"type": "function", "function": _function(t)} for t in tools]
            body["tool_choice"] = "auto"
        body[self._token_field] = max_tokens or self.config.max_tokens
        if self.config.temperature is not None and self._send_temperature:
            body["temperature"] = self.config.temperature
        return body

    def _adapt_to(self, error: ProviderBadRequest) -> bool:
        """Whether the request can be changed to suit a 400 about our token limit or temperature (then it is)."""
        if error.status != 400 or error.code != "bad_request":
            return False
        if self._token_field == MAX_TOKENS and MAX_COMPLETION_TOKENS in error.detail:
            self._token_field = MAX_COMPLETION_TOKENS
            return True
        unsupported_temperature = "unsupported" in error.detail.lower() and "temperature" in error.detail
        if unsupported_temperature and self._send_temperature and self.config.temperature is not None:
            self._send_temperature = False
            return True
        return False

    def _reply(self, answer: Any) -> ChatReply:
        if not isinstance(answer, dict):
            raise self._malformed("the answer is not a JSON object")
        choices = answer.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise self._malformed("the answer has no choices")
        message = choices[0].get("message")
        if not isinstance(message, dict):
            raise self._malformed("choices[0] has no message")
        text = _content_text(message.get("content"))
        if text is None:
            raise self._malformed("choices[0].message.content is neither text nor a list of parts")
        if not text and isinstance(message.get("refusal"), str):
            text = message["refusal"]  # the model declined: that sentence is its answer

        raw_calls = message.get("tool_calls") or []
        if not isinstance(raw_calls, list):
            raise self._malformed("choices[0].message.tool_calls is not a list")
        calls = []
        for index, raw in enumerate(raw_calls):
            function = raw.get("function") if isinstance(raw, dict) else None
            if not isinstance(function, dict) or not isinstance(function.get("name"), str) or not function["name"]:
                raise self._malformed(f"tool call {index} has no function name")
            arguments = tool_arguments(function.get("arguments"))
            if arguments is None:
                raise self._malformed(f"tool call {index} ({function['name']}): arguments are not a JSON object")
            # Some servers (Ollama's older releases, a few vLLM parsers) send no id; the reply still needs one.
            call_id = raw.get("id") if isinstance(raw.get("id"), str) and raw.get("id") else f"call_{index}"
            calls.append(ToolCall(id=call_id, name=function["name"], arguments=arguments))

        return ChatReply(
            text=text,
            tool_calls=calls,
            model=_text(answer.get("model")) or self.config.model,
            usage=token_usage(answer.get("usage"), "prompt_tokens", "completion_tokens"),
            stop_reason=_text(choices[0].get("finish_reason")),
        )

    # --- check ----------------------------------------------------------------------------------------------------
    def validate_credentials(self) -> None:
        """The key is accepted and the model is listed by `GET /models`; without that endpoint (404), a 1-token chat
        proves both. Servers whose model list is public (OpenRouter) only prove the key on a real chat."""
        self._require_model()
        try:
            listing = self._call("GET", "/models")
        except ProviderBadRequest as error:
            if error.status != 404:
                raise
            self._one_token_chat()
            return
        data = listing.get("data") if isinstance(listing, dict) else None
        if not isinstance(data, list):
            raise self._malformed("GET /models: the answer has no data list")
        ids = [item["id"] for item in data if isinstance(item, dict) and isinstance(item.get("id"), str)]
        if not any(_same_model(self.config.model, listed) for listed in ids):
            shown = ", ".join(ids[:10]) + (" ..." if len(ids) > 10 else "")
            raise self._fail(
                ProviderBadRequest,
                "model_not_found",
                f"GET /models: {self.config.model!r} is not among the {len(ids)} listed: {shown}",
            )

    def _one_token_chat(self) -> None:
        self._completion([ChatMessage(role="user", content="ping")], [], max_tokens=1)


def _message(message: ChatMessage) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    wire: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        # OpenAI documents null content for a turn that only calls tools; "" is refused by some compatible servers.
        wire["content"] = message.content or None
        wire["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)},
            }
            for call in message.tool_calls
        ]
    if message.name:
        wire["name"] = message.name
    return wire


def _function(tool: ToolSpec) -> dict[str, Any]:
    return {"name": tool.name, "description": tool.description, "parameters": empty_schema(tool.parameters)}


def _content_text(content: Any) -> str | None:
    """`message.content` as text: a string, None (tool calls only), or a list of parts (some servers)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "") for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return None


def _same_model(configured: str, listed: str) -> bool:
    # Gemini lists "models/gemini-2.0-flash"; Ollama lists "llama3.2:latest" for "llama3.2".
    return listed in (configured, f"models/{configured}", f"{configured}:latest")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))
