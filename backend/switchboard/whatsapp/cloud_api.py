"""The WhatsApp Cloud API's wire format (Graph, `POST /{phone-number-id}/messages`): message bodies, media upload,
read receipts and the approved templates of a WhatsApp Business Account.

Media is uploaded first (`POST /{phone-number-id}/media`) and sent by id, so no public link is needed. Read receipts:
`{"status": "read", "message_id": <wamid>}`. The Cloud API keeps no history: a sync only checks the number
(`GET /{phone-number-id}`), which proves the token still works. Sending and error classification are Graph's
(meta/messages.py); the template shape is shared with Twilio and the sandbox (meta/templates.py).
"""

from __future__ import annotations

import re
from typing import Any

from switchboard.meta.graph import GraphClient, GraphError
from switchboard.meta.templates import template
from switchboard.whatsapp.parsers import as_dict, as_list

TEMPLATE_FIELDS = "name,language,category,status,components"
TEMPLATE_PAGE_SIZE = 100
TEMPLATE_MAX_PAGES = (
    10  # 1000 templates: WhatsApp allows at most 250 per business account (6000 with a verified business)
)

# --- messages -------------------------------------------------------------------------------------------------
CLOUD_MEDIA_TYPES = {"image", "video", "audio", "document", "sticker"}
CLOUD_CAPTIONED = {"image", "video", "document"}


def cloud_address(*, to: str = "", recipient: str = "") -> dict[str, Any]:
    """Who a message goes to: `to` (a phone number) or, for a user known only by their business-scoped user id,
    `recipient` (the BSUID or parent BSUID) without `to` — with both, Meta would use `to`."""
    if not to and not recipient:
        raise ValueError("a WhatsApp message needs a phone number or a business-scoped user id to go to")
    address = {"to": to} if to else {"recipient": recipient}
    return {"messaging_product": "whatsapp", "recipient_type": "individual", **address}


def cloud_body(*, to: str = "", recipient: str = "", content: dict[str, Any], reply_to: str = "") -> dict[str, Any]:
    """`content` is the typed part: {"type": "text", "text": {...}} etc."""
    body: dict[str, Any] = {**cloud_address(to=to, recipient=recipient), **content}
    if reply_to:
        body["context"] = {"message_id": reply_to}
    return body


def cloud_text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": text, "preview_url": "http://" in text or "https://" in text}}


def cloud_media(kind: str, media_id: str, *, caption: str = "", filename: str = "") -> dict[str, Any]:
    kind = kind if kind in CLOUD_MEDIA_TYPES else "document"
    part: dict[str, Any] = {"id": media_id}
    if caption and kind in CLOUD_CAPTIONED:
        part["caption"] = caption
    if filename and kind == "document":
        part["filename"] = filename
    return {"type": kind, kind: part}


def cloud_template(template: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "template",
        "template": {
            "name": template["name"],
            "language": {"code": template["language"]},
            **({"components": template["components"]} if template.get("components") else {}),
        },
    }


def cloud_read_body(wamid: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}


def cloud_upload(client: GraphClient, phone_number_id: str, *, data: bytes, mime_type: str, filename: str) -> str:
    """Upload media for sending (`POST /{phone-number-id}/media`); the media id. Raises GraphError."""
    answer = client.request(
        "POST",
        f"{phone_number_id}/media",
        data={"messaging_product": "whatsapp", "type": mime_type},
        files={"file": (filename or "file", data, mime_type or "application/octet-stream")},
    )
    media_id = answer.get("id")
    if not media_id:
        raise GraphError("The media upload answered without an id")
    return str(media_id)


# --- approved templates ---------------------------------------------------------------------------------------
def template_from_graph(item: Any) -> dict[str, Any] | None:
    """One item of `message_templates`, or None when it is not a template (no name)."""
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        return None
    components = as_list(item.get("components"))
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
    for _ in range(TEMPLATE_MAX_PAGES):
        params: dict[str, Any] = {"status": "APPROVED", "fields": TEMPLATE_FIELDS, "limit": TEMPLATE_PAGE_SIZE}
        if after:
            params["after"] = after
        page = client.get(f"{business_account_id}/message_templates", params)
        data = page.get("data")
        for item in data if isinstance(data, list) else []:
            parsed = template_from_graph(item)
            if parsed is not None:
                found.append(parsed)
        paging = as_dict(page.get("paging"))
        cursors = as_dict(paging.get("cursors"))
        after = str(cursors.get("after") or "")
        if not paging.get("next") or not after:
            break
    return found
