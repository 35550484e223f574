"""WhatsApp message templates as the web app's template picker lists them, the shape every provider's list uses.

The Cloud API's list (whatsapp/cloud_api.py), Twilio's Content API (whatsapp/twilio_api.py) and the sandbox
(sandbox/templates.py) each turn their templates into one plain dict (the shape the API answers, see
`platforms.serializers.WhatsAppTemplateSerializer`): `name`, `display_name`, `language`, `category`, `status`,
`body` (the BODY component's text, with its `{{1}}` … placeholders) and `parameter_count` (how many distinct
placeholders the body has, i.e. how many body parameters a send must fill in).
"""

from __future__ import annotations

import re
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")


def parameter_count(body: str) -> int:
    """Distinct `{{…}}` placeholders of a template body (`{{1}}` twice is one parameter)."""
    return len(set(_PLACEHOLDER.findall(body or "")))


def template(
    *, name: str, language: str, body: str, category: str = "", status: str = "", display_name: str = ""
) -> dict[str, Any]:
    return {
        "name": name,
        "display_name": display_name or name,
        "language": language,
        "category": category,
        "status": status,
        "body": body,
        "parameter_count": parameter_count(body),
    }
