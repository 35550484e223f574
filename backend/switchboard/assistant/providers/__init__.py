"""The assistant's language model providers: one interface (`base.py`), one class per vendor API, and the registry.

    provider = provider_for("anthropic", ProviderConfig(model="claude-sonnet-4-20250514", api_key=key))
    reply = provider.chat([ChatMessage("system", prompt), ChatMessage("user", text)], tools)

Adding a vendor is one `Provider` subclass and one line in `PROVIDERS`. The registry lives here rather than in
`base.py` because the provider modules import `base`. Which addresses a provider may call is `guard.py`'s (the
engine configures it from the server's settings: `ProviderConfig.session_factory`).
"""

from __future__ import annotations

from switchboard.assistant.providers.anthropic import AnthropicProvider
from switchboard.assistant.providers.base import (
    ChatMessage,
    ChatReply,
    Provider,
    ProviderAuthError,
    ProviderBadRequest,
    ProviderConfig,
    ProviderError,
    ProviderMalformedAnswer,
    ProviderRateLimited,
    ProviderServerError,
    ProviderUnreachable,
    ToolCall,
    ToolSpec,
    sentence,
)
from switchboard.assistant.providers.openai_compatible import OpenAICompatibleProvider

PROVIDERS: dict[str, type[Provider]] = {
    "openai": OpenAICompatibleProvider,  # also Ollama, vLLM, OpenRouter, Gemini: set base_url
    "anthropic": AnthropicProvider,
}


def provider_for(name: str, config: ProviderConfig) -> Provider:
    """The provider registered as `name`, configured. An unknown name is a ProviderBadRequest ("unknown_provider") so
    a stale setting reaches the agency owner like any other configuration problem."""
    try:
        cls = PROVIDERS[name]
    except KeyError:
        raise ProviderBadRequest(
            sentence("unknown_provider", provider=name),
            code="unknown_provider",
            detail=f"known providers: {', '.join(sorted(PROVIDERS))}",
            secrets=(config.api_key,),
        ) from None
    return cls(config)


__all__ = [
    "PROVIDERS",
    "AnthropicProvider",
    "ChatMessage",
    "ChatReply",
    "OpenAICompatibleProvider",
    "Provider",
    "ProviderAuthError",
    "ProviderBadRequest",
    "ProviderConfig",
    "ProviderError",
    "ProviderMalformedAnswer",
    "ProviderRateLimited",
    "ProviderServerError",
    "ProviderUnreachable",
    "ToolCall",
    "ToolSpec",
    "provider_for",
]
