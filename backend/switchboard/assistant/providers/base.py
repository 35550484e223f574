"""The one interface between the assistant and a language model vendor: messages in, a reply (text and tool calls) out.

The assistant speaks only these types, so the conversation logic, the tools and the tests do not change with the
vendor. A provider (`openai_compatible.py`, `anthropic.py`) translates them to its vendor's wire format and back, and
turns every failure into one exception hierarchy:

    ProviderError                      message_for_agents, code, retryable, retry_after, detail, status
    ├── ProviderUnreachable            connection refused, DNS, timeouts            retryable  "unreachable" / "timeout"
    ├── ProviderRateLimited            429 (Retry-After honoured)                   retryable  "rate_limited"
    │                                  402 / out of credit                          final      "quota_exceeded"
    ├── ProviderAuthError              401 / 403                                    final      "invalid_key" / ...
    ├── ProviderBadRequest             400 / 404 / other 4xx                        final      "model_not_found" / ...
    ├── ProviderServerError            5xx, 529                                     retryable  "server_error" / ...
    └── ProviderMalformedAnswer        not JSON, missing fields, bad tool args      once       "malformed_answer"

`message_for_agents` is a fixed sentence an agency owner understands (never the vendor's own words, which may be
technical or in another language); the vendor's text goes to `detail` for developers. Neither ever holds the API key:
the key is scrubbed from both (vendors do echo keys back, OpenAI half-masked), and `ProviderConfig`'s repr hides it.

Errors are the only failure path: `chat()` either returns a `ChatReply` or raises a `ProviderError`. Nothing here
needs Django, so the layer can be exercised (and reused) without settings.
"""

from __future__ import annotations

import abc
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import requests

from switchboard.common.http import retry_after_seconds

Role = Literal["system", "user", "assistant", "tool"]

REDACTED = "[redacted]"
DETAIL_LIMIT = 600  # characters of vendor text kept in `detail`: enough to diagnose, not a whole HTML error page


# --- the conversation ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ToolCall:
    """The model asks for tool `name` with `arguments` (already decoded from the vendor's JSON). `id` pairs the call
    with its result (`ChatMessage(role="tool", tool_call_id=id)`)."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ToolSpec:
    """A tool the model may call; `parameters` is a JSON Schema object describing its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ChatMessage:
    """One turn of the conversation.

    * `system`: instructions (OpenAI: a system message; Anthropic: the top-level `system` field).
    * `user` / `assistant`: what the customer wrote / what the model answered; an assistant turn that asked for tools
      carries them in `tool_calls`, so the history can be replayed to the vendor.
    * `tool`: a tool's result, `content` as text, `tool_call_id` naming the call it answers; `name` may hold the tool's
      name (for logs; neither vendor needs it). On user/system/assistant turns `name` is OpenAI's participant name.
    """

    role: Role
    content: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str = ""
    name: str = ""


@dataclass(frozen=True)
class ChatReply:
    """The model's answer: `text` (may be empty when it only calls tools) and the `tool_calls` it asks for.

    `model` is the model that answered as the vendor names it (often a dated version of the configured one); `usage`
    is `{"input_tokens": int, "output_tokens": int}` whatever the vendor calls them; `stop_reason` is the vendor's own
    value ("stop", "tool_calls", "length" / "end_turn", "tool_use", "max_tokens"), kept to tell a cut-off answer."""

    text: str
    tool_calls: list[ToolCall]
    model: str
    usage: dict[str, int]
    stop_reason: str = ""


@dataclass(frozen=True)
class ProviderConfig:
    """How to reach a vendor. An empty `base_url` means the provider's public endpoint; an empty `api_key` sends no
    credentials (Ollama, a local vLLM). `temperature` None leaves the vendor's default (some OpenAI models accept no
    other). `timeout_seconds` bounds the wait for the answer; `connect_timeout_seconds` the TCP/TLS handshake, short,
    so an address nobody answers at fails fast. An empty `model` fails every call with "model_missing" (fields keep
    the order base_url, api_key, model, ... so every field can default). `session_factory`, when set, opens the HTTP
    session of each call (the engine's address guard, providers/guard.py: every connection checked); None: a plain
    one."""

    base_url: str = ""
    api_key: str = field(default="", repr=False)  # repr=False: configs end up in logs and tracebacks
    model: str = ""
    temperature: float | None = None
    max_tokens: int = 1024
    timeout_seconds: float = 60.0
    connect_timeout_seconds: float = 5.0
    session_factory: Callable[[], requests.Session] | None = field(default=None, repr=False, compare=False)


# --- errors ---------------------------------------------------------------------------------------------------------
# Half-masked echoes such as OpenAI's "Incorrect API key provided: sk-PMafP****************E873".
_MASKED_SECRET = re.compile(r"\S*\*{4,}\S*")


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` without any of `secrets` (nor a masked echo of one)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return _MASKED_SECRET.sub(REDACTED, text)


def _restore_error(cls: type[ProviderError], message: str, state: dict[str, Any]) -> ProviderError:
    error = cls(message)
    error.__dict__.update(state)
    return error


class ProviderError(Exception):
    """A call to the vendor failed. `retryable`: trying again later may succeed (wait at least `retry_after` seconds
    when set); `max_retries` caps how often it is worth it (None: the caller's policy). `code` is stable, for logic and
    metrics; `status` is the HTTP status when there was one."""

    default_code: ClassVar[str] = "provider_error"
    default_retryable: ClassVar[bool] = False
    max_retries: ClassVar[int | None] = None

    def __init__(
        self,
        message_for_agents: str,
        *,
        code: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        detail: str = "",
        status: int | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        secrets = tuple(secrets)
        self.message_for_agents = redact(message_for_agents, secrets)
        self.code = code or self.default_code
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after
        self.detail = redact(detail, secrets)[:DETAIL_LIMIT]
        self.status = status
        super().__init__(self.message_for_agents)

    def __str__(self) -> str:
        status = f", HTTP {self.status}" if self.status is not None else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.message_for_agents} [{self.code}{status}]{detail}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments do not survive Exception's default pickling (Celery results, multiprocessing).
        state = {k: v for k, v in self.__dict__.items() if k != "message_for_agents"}
        return (_restore_error, (type(self), self.message_for_agents, state))


class ProviderUnreachable(ProviderError):
    default_code = "unreachable"
    default_retryable = True


class ProviderRateLimited(ProviderError):
    default_code = "rate_limited"
    default_retryable = True


class ProviderAuthError(ProviderError):
    default_code = "invalid_key"


class ProviderBadRequest(ProviderError):
    default_code = "bad_request"


class ProviderServerError(ProviderError):
    default_code = "server_error"
    default_retryable = True


class ProviderMalformedAnswer(ProviderError):
    default_code = "malformed_answer"
    default_retryable = True
    max_retries = 1  # a model may garble one answer; a vendor that always does will not get better


SENTENCES: dict[str, str] = {
    "unreachable": "The AI provider could not be reached: check its address in the assistant settings.",
    "timeout": "The AI provider took too long to answer; the assistant will try again.",
    "rate_limited": "The AI provider is receiving too many requests from this account; the assistant will try again "
    "shortly.",
    "quota_exceeded": "The AI provider account has run out of credit or quota: check its billing on the provider's "
    "website.",
    "invalid_key": "The AI provider refused the API key: check it in the assistant settings.",
    "permission_denied": "The AI provider does not allow this API key to do this: check the key's permissions, or "
    "choose another model in the assistant settings.",
    "model_not_found": "The AI provider does not offer the model '{model}': check the model name in the assistant "
    "settings.",
    "model_missing": "No AI model is chosen: choose one in the assistant settings.",
    "not_found": "The AI provider's address does not answer like an AI provider: check the address in the assistant "
    "settings.",
    "invalid_address": "The AI provider's address is not a valid web address: check it in the assistant settings.",
    # Also code "invalid_address" (providers/guard.py): the address is valid, but this server may not call it.
    "private_address": "The AI provider's address is on a private or local network, which this server does not "
    "call: use the provider's public address, or ask whoever runs Switchboard to allow local AI servers.",
    "host_not_allowed": "This server calls only the AI providers its operator allows, and '{host}' is not one of "
    "them: use an allowed address, or ask whoever runs Switchboard to allow it.",
    "bad_request": "The AI provider rejected the request: check the model and options in the assistant settings.",
    "unknown_provider": "The AI provider '{provider}' is not supported: choose another one in the assistant settings.",
    "server_error": "The AI provider had an internal problem; the assistant will try again.",
    "overloaded": "The AI provider is overloaded right now; the assistant will try again shortly.",
    "malformed_answer": "The AI provider sent an answer the assistant could not read; it will try again.",
}


def sentence(code: str, **values: str) -> str:
    return SENTENCES[code].format(**values)


@dataclass(frozen=True)
class VendorError:
    """What a vendor's error body says, pulled out of its envelope by the provider. `model_missing` is the provider's
    reading when its vendor says "unknown model" in a way of its own (Anthropic's "model: x" not_found_error)."""

    message: str = ""
    type: str = ""
    code: str = ""
    param: str = ""
    model_missing: bool = False


# Vendors say "this model does not exist" in many ways: Ollama 'model "x" not found, try pulling it first', vLLM
# "The model `x` does not exist.", OpenRouter "x is not a valid model ID", Gemini "models/x is not found".
_MODEL_MISSING = re.compile(
    r"model.*(not found|does not exist|doesn't exist)|(not a valid|no such|unknown|invalid|unsupported) model",
    re.IGNORECASE | re.DOTALL,
)
_QUOTA_CODES = frozenset({"insufficient_quota", "billing_error", "billing_hard_limit_reached", "insufficient_credits"})


def error_for_status(
    status: int,
    vendor: VendorError,
    *,
    headers: Any,
    model: str,
    secrets: Sequence[str],
    raw_text: str = "",
    what: str = "",
) -> ProviderError:
    """The ProviderError for a non-2xx answer. `headers` is a case-insensitive mapping (requests'); `what` names the
    request ("POST /v1/messages") for the detail."""
    parts = [p for p in (what, f"HTTP {status}", vendor.type, vendor.code) if p]
    text = vendor.message or raw_text.strip()
    detail = " ".join(parts) + (f": {text}" if text else "")
    common: dict[str, Any] = {"detail": detail, "status": status, "secrets": secrets}
    retry_after = _retry_after(headers)
    if status == 402 or vendor.code in _QUOTA_CODES or vendor.type in _QUOTA_CODES:
        return ProviderRateLimited(sentence("quota_exceeded"), code="quota_exceeded", retryable=False, **common)
    if status == 401:
        return ProviderAuthError(sentence("invalid_key"), code="invalid_key", **common)
    if status == 403:
        return ProviderAuthError(sentence("permission_denied"), code="permission_denied", **common)
    if status == 429:
        return ProviderRateLimited(sentence("rate_limited"), retry_after=retry_after, **common)
    if status == 408:
        return ProviderUnreachable(sentence("timeout"), code="timeout", retry_after=retry_after, **common)
    if status >= 500:
        overloaded = status == 529 or vendor.type == "overloaded_error"
        code = "overloaded" if overloaded else "server_error"
        return ProviderServerError(sentence(code), code=code, retry_after=retry_after, **common)
    said_model_missing = vendor.model_missing or vendor.code == "model_not_found"
    if said_model_missing or (status in (400, 404) and _MODEL_MISSING.search(vendor.message)):
        return ProviderBadRequest(sentence("model_not_found", model=model), code="model_not_found", **common)
    if status == 404 and not vendor.message:
        # A 404 that is no vendor's error envelope: the address points at something else (a missing /v1, a website).
        return ProviderBadRequest(sentence("not_found"), code="bad_request", **common)
    return ProviderBadRequest(sentence("bad_request"), code="bad_request", **common)


def _retry_after(headers: Any) -> float | None:
    # OpenAI and Anthropic also send the millisecond form, more precise when both come.
    millis = retry_after_seconds(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    return retry_after_seconds(headers.get("retry-after"))


# --- the provider -----------------------------------------------------------------------------------------------------
class Provider(abc.ABC):
    """One vendor API. Subclasses set `name` and `default_base_url`, translate messages (`chat`), check a
    configuration (`validate_credentials`), and say how to authenticate (`_headers`) and read an error body
    (`_vendor_error`); the HTTP plumbing and error mapping are shared (`_call`)."""

    name: ClassVar[str]
    default_base_url: ClassVar[str]

    def __init__(self, config: ProviderConfig, *, session: requests.Session | None = None) -> None:
        self.config = config
        self.base_url = (config.base_url.strip() or self.default_base_url).rstrip("/")
        # No session by default: one connection per call, nothing left open between the rare calls of a worker.
        self._session = session

    @abc.abstractmethod
    def chat(self, messages: list[ChatMessage], tools: list[ToolSpec]) -> ChatReply:
        """The model's next turn after `messages`, allowed to call `tools`."""

    @abc.abstractmethod
    def validate_credentials(self) -> None:
        """Raise a ProviderError unless the address answers, the key is accepted and the model exists."""

    @abc.abstractmethod
    def _headers(self) -> dict[str, str]:
        """The request headers, credentials included."""

    def _vendor_error(self, body: Any) -> VendorError:
        """The vendor's error message out of a decoded error body (any JSON value; None when not JSON)."""
        return VendorError()

    # --- shared plumbing ----------------------------------------------------------------------------------------------
    @property
    def _secrets(self) -> tuple[str, ...]:
        return (self.config.api_key,) if self.config.api_key else ()

    def _fail(self, cls: type[ProviderError], code: str, detail: str = "", **kwargs: Any) -> ProviderError:
        """An error of our own making (not from an HTTP status), the key scrubbed like any other."""
        return cls(sentence(code, model=self.config.model), code=code, detail=detail, secrets=self._secrets, **kwargs)

    def _require_model(self) -> None:
        if not self.config.model.strip():
            raise self._fail(ProviderBadRequest, "model_missing")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """`method` `base_url + path` with `body` as JSON; the decoded JSON answer of a 2xx, else a ProviderError."""
        url = self.base_url + path
        what = f"{method} {path}"
        factory = self.config.session_factory
        own = factory() if factory is not None and self._session is None else None  # closed after the call
        http: Any = self._session or own or requests
        try:
            # Never a redirect: the address checked (providers/guard.py) is the only one called, and a 3xx is an
            # error of its own (a moved endpoint is the owner's to fix in base_url).
            response = http.request(
                method,
                url,
                headers=self._headers(),
                json=body,
                timeout=(self.config.connect_timeout_seconds, self.config.timeout_seconds),
                allow_redirects=False,
            )
        # ConnectTimeout is both a Timeout and a ConnectionError: nobody answered at the address, so "unreachable".
        except requests.ConnectTimeout as exc:
            raise self._fail(ProviderUnreachable, "unreachable", f"{what}: connect timeout: {exc}") from exc
        except requests.Timeout as exc:
            raise self._fail(ProviderUnreachable, "timeout", f"{what}: read timeout: {exc}") from exc
        except requests.ConnectionError as exc:
            raise self._fail(ProviderUnreachable, "unreachable", f"{what}: {exc}") from exc
        except requests.RequestException as exc:  # MissingSchema, InvalidURL…: the configured address is no URL
            raise self._fail(ProviderBadRequest, "invalid_address", f"{what}: {exc}") from exc
        finally:
            if own is not None:
                own.close()

        decoded = _decode_json(response.content)
        if not 200 <= response.status_code < 300:
            vendor = self._vendor_error(decoded if decoded is not _NOT_JSON else None)
            raise error_for_status(
                response.status_code,
                vendor,
                headers=response.headers,
                model=self.config.model,
                secrets=self._secrets,
                raw_text=response.text if decoded is _NOT_JSON else "",
                what=what,
            )
        if decoded is _NOT_JSON:
            snippet = response.text.strip()
            raise self._fail(
                ProviderMalformedAnswer,
                "malformed_answer",
                f"{what}: HTTP {response.status_code}, not JSON: {snippet}",
                status=response.status_code,
            )
        return decoded

    def _malformed(self, why: str) -> ProviderError:
        return self._fail(ProviderMalformedAnswer, "malformed_answer", why)


_NOT_JSON: Any = object()


def _decode_json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:  # also UnicodeDecodeError
        return _NOT_JSON


def tool_arguments(raw: Any) -> dict[str, Any] | None:
    """A tool call's arguments as a dict: from the JSON string OpenAI sends (an empty string is no arguments), or
    already an object (Anthropic, and some OpenAI-compatible servers); None when they are not a JSON object."""
    if isinstance(raw, dict):
        return raw
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    if not isinstance(raw, str):
        return None
    try:
        decoded = json.loads(raw)
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) else None


def token_usage(usage: Any, input_key: str, output_key: str) -> dict[str, int]:
    """The vendor's usage object as {"input_tokens", "output_tokens"} (whichever it reported)."""
    if not isinstance(usage, dict):
        return {}
    found = {"input_tokens": usage.get(input_key), "output_tokens": usage.get(output_key)}
    return {k: v for k, v in found.items() if isinstance(v, int) and not isinstance(v, bool)}


def empty_schema(parameters: dict[str, Any]) -> dict[str, Any]:
    """A tool's parameters, an empty object schema when it takes none (both vendors require an object schema)."""
    return parameters or {"type": "object", "properties": {}}
