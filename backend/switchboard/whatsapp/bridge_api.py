"""WhatsApp-Web bridges (WAHA's HTTP API, which the whatsapp-web.js REST wrappers mirror closely): sending and the
connection state.

`POST {base_url}/api/sendText`, `sendImage` / `sendVideo` / `sendVoice` / `sendFile` with the file inline (base64),
`sendSeen`; the `X-Api-Key` header. Failures become a `SendResult` (platforms/registry.py) with a sentence an agent
understands; the bridge's own words go to `error_detail`.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import requests

from switchboard.common.http import retry_after_seconds
from switchboard.inbox.models import MessageKind
from switchboard.platforms.models import PlatformAccount
from switchboard.platforms.registry import SendResult

logger = logging.getLogger(__name__)

TIMEOUT = (5, 30)  # (connect, read) seconds

# --- bridges (WAHA) ---------------------------------------------------------------------------------------------------
BRIDGE_MEDIA_ENDPOINTS: dict[str, str] = {  # by MessageKind
    MessageKind.IMAGE: "sendImage",
    MessageKind.STICKER: "sendImage",
    MessageKind.VIDEO: "sendVideo",
    MessageKind.AUDIO: "sendVoice",
}


def bridge_chat_id(external_id: str) -> str:
    """A contact's bridge chat id: an E.164 number becomes `<digits>@c.us`; a lid or other jid is used as is."""
    if "@" in external_id:
        return external_id
    return external_id.lstrip("+") + "@c.us"


def _bridge_headers(account: PlatformAccount) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if account.credential("api_key"):
        headers["X-Api-Key"] = account.credential("api_key")
    return headers


def bridge_post(account: PlatformAccount, endpoint: str, body: dict[str, Any]) -> SendResult:
    base_url = account.credential("base_url").rstrip("/")
    if not base_url:
        return SendResult.failure("no_base_url", "The bridge account has no base URL: reconnect the account.",
                                  needs_reconnect=True)  # fmt: skip
    try:
        response = requests.post(
            f"{base_url}/api/{endpoint}",
            data=json.dumps({"session": account.external_id, **body}),
            headers=_bridge_headers(account),
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return SendResult.failure(
            "network",
            "The WhatsApp bridge could not be reached (is it running, and is its address right?).",
            transient=True,
            detail=f"bridge {endpoint} failed: {type(exc).__name__}: {exc}",
        )
    status = response.status_code
    detail = f"bridge {endpoint} answered HTTP {status}: {response.text[:500]}"
    if status in (401, 403):
        return SendResult.failure(
            f"http_{status}",
            "The bridge refused the account's API key: reconnect the account.",
            needs_reconnect=True,
            detail=detail,
        )
    if status == 429 or status >= 500:
        return SendResult.failure(
            f"http_{status}",
            "The WhatsApp bridge is busy or unreachable right now.",
            transient=True,
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            detail=detail,
        )
    if status >= 300:
        return SendResult.failure(
            f"http_{status}",
            "The WhatsApp bridge refused this message (is its session connected and the chat valid?).",
            detail=detail,
        )
    try:
        answer = response.json()
    except ValueError:
        answer = None
    message_id = bridge_message_id(answer)
    return SendResult(platform_message_id=message_id) if message_id else SendResult(ok=True)


def bridge_message_id(answer: Any) -> str:
    """The serialized id (`true_<chat>_<id>`) from WAHA's WAMessage or a whatsapp-web.js wrapper's answer."""
    if not isinstance(answer, dict):
        return ""
    if isinstance(answer.get("message"), dict):
        answer = answer["message"]
    value = answer.get("id")
    if isinstance(value, dict):
        value = value.get("_serialized") or ""
    if not value and isinstance(answer.get("key"), dict):  # Baileys-style answers
        key = answer["key"]
        if key.get("id") and key.get("remoteJid"):
            value = f"{str(bool(key.get('fromMe', True))).lower()}_{key['remoteJid']}_{key['id']}"
    return str(value or "")


def bridge_file(data: bytes, *, mime_type: str, filename: str) -> dict[str, str]:
    return {"mimetype": mime_type or "application/octet-stream", "filename": filename or "file",
            "data": base64.b64encode(data).decode()}  # fmt: skip


def bridge_connection(account: PlatformAccount) -> dict[str, Any]:
    """The connection test: the session's state (`GET {base_url}/api/sessions/{session}`), its failures classified
    like a send's (a refused API key: needs_reconnect). Raises BridgeError. A session WAHA reports as not ready
    (STOPPED, STARTING, SCAN_QR_CODE, FAILED) fails the test; any other state (WORKING, or a wrapper's own word)
    passes."""
    base_url = account.credential("base_url").rstrip("/")
    if not base_url:
        raise BridgeError(
            SendResult.failure(
                "no_base_url", "The bridge account has no base URL: reconnect the account.", needs_reconnect=True
            )
        )
    try:
        response = _get_session(account, base_url)
    except requests.RequestException as exc:
        raise BridgeError(
            SendResult.failure(
                "network",
                "The WhatsApp bridge could not be reached (is it running, and is its address right?).",
                transient=True,
                detail=f"bridge session check failed: {type(exc).__name__}: {exc}",
            )
        ) from exc
    status = response.status_code
    detail = f"bridge session check answered HTTP {status}: {response.text[:500]}"
    if status in (401, 403):
        raise BridgeError(
            SendResult.failure(
                f"http_{status}",
                "The bridge refused the account's API key: reconnect the account.",
                needs_reconnect=True,
                detail=detail,
            )
        )
    if status >= 300:
        raise BridgeError(
            SendResult.failure(
                f"http_{status}",
                "The WhatsApp bridge does not know this session (is the session name right, and is it started?).",
                transient=status == 429 or status >= 500,
                detail=detail,
            )
        )
    session_status = _session_status(response)
    if session_status.upper() in BRIDGE_NOT_READY:
        return {
            "ok": False,
            "status": session_status,
            "error": f"the bridge session is {session_status}, not WORKING (start it, or scan its QR code)",
        }
    return {
        "ok": True,
        "status": session_status,
        "detail": f"Connected: the bridge session is {session_status or 'up'}.",
    }


BRIDGE_NOT_READY = frozenset({"STOPPED", "STARTING", "SCAN_QR_CODE", "FAILED"})


class BridgeError(Exception):
    def __init__(self, result: SendResult) -> None:
        super().__init__(result.error_message)
        self.result = result


def bridge_health(account: PlatformAccount) -> dict[str, Any]:
    base_url = account.credential("base_url").rstrip("/")
    try:
        response = _get_session(account, base_url)
    except requests.RequestException as exc:
        return {"ok": False, "error": f"unreachable: {exc}"}
    if response.status_code >= 300:
        return {"ok": False, "error": f"HTTP {response.status_code}"}
    return {"ok": True, "status": _session_status(response)}


def _get_session(account: PlatformAccount, base_url: str) -> requests.Response:
    """`GET {base_url}/api/sessions/{session}`: the one read both the connection test and the health check make."""
    return requests.get(
        f"{base_url}/api/sessions/{account.external_id}",
        headers=_bridge_headers(account),
        timeout=TIMEOUT,
        allow_redirects=False,
    )


def _session_status(response: requests.Response) -> str:
    """The session's `status` word from the answer's JSON body ("" when the body is not a JSON object)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    return str(body.get("status") or "") if isinstance(body, dict) else ""
