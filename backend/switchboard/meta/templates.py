"""WhatsApp message templates as the web app's template picker lists them, read from the Cloud API.

`GET /{waba-id}/message_templates?status=APPROVED&fields=name,language,category,status,components` (Graph), paged
with `paging.cursors.after`. Each template becomes one plain dict (the shape the API answers, see
`platforms.serializers.WhatsAppTemplateSerializer`): `name`, `display_name`, `language`, `category`, `status`,
`body` (the BODY component's text, with its `{{1}}` … placeholders) and `parameter_count` (how many distinct
placeholders the body has, i.e. how many body parameters a send must fill in). The Twilio and sandbox lists
(whatsapp/client.py, sandbox/templates.py) use the same shape and `parameter_count`.
"""

from __future__ import annotations

import re
from typing import Any

from switchboard.meta.graph import GraphClient, GraphError

FIELDS = "name,language,category,status,components"
PAGE_SIZE = 100
MAX_PAGES = 10  # 1000 templates: WhatsApp allows at most 250 per business account (6000 with a verified business)
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


def cloud_template(item: Any) -> dict[str, Any] | None:
    """One item of `message_templates`, or None when it is not a template (no name)."""
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        return None
    components = item.get("components") if isinstance(item.get("components"), list) else []
    body = next(
        (
            str(component.get("text") or "")
            for component in components
            if isinstance(component, dict) and str(component.get("type", "")).upper() == "BODY"
        ),
        "",
    )
    return template(
        name=item["name"],
        language=str(item.get("language") or ""),
        category=str(item.get("category") or ""),
        status=str(item.get("status") or ""),
        body=body,
    )


def cloud_templates(client: GraphClient, business_account_id: str) -> list[dict[str, Any]]:
    """The approved templates of a WhatsApp Business Account. Raises GraphError."""
    if not re.fullmatch(r"\d{1,64}", business_account_id or ""):
        raise GraphError(f"Not a WhatsApp Business Account id: {business_account_id!r}", code=100)
    found: list[dict[str, Any]] = []
    after = ""
    for _ in range(MAX_PAGES):
        params: dict[str, Any] = {"status": "APPROVED", "fields": FIELDS, "limit": PAGE_SIZE}
        if after:
            params["after"] = after
        page = client.get(f"{business_account_id}/message_templates", params)
        data = page.get("data")
        for item in data if isinstance(data, list) else []:
            parsed = cloud_template(item)
            if parsed is not None:
                found.append(parsed)
        paging = page.get("paging") if isinstance(page.get("paging"), dict) else {}
        cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
        after = str(cursors.get("after") or "")
        if not paging.get("next") or not after:
            break
    return found
