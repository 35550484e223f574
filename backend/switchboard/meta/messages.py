"""Sending through the Graph API: the Messenger / Instagram Send API and the WhatsApp Cloud API messages endpoint.

* `classify(exc)` turns a `GraphError` (meta/graph.py) into a `SendResult`: transient (timeouts, 5xx, 429 and the
  codes of graph.py's one table, TRANSIENT_CODE_TITLES: 130429, 80007, 4, 2, …) is retried by the outbound task with
  backoff, never sooner than the answer's Retry-After (`retry_after`); anything else is permanent,
  with a sentence an agent understands; 190 (and the other token codes) also marks the account for reconnection.
  The sentence never quotes the exception or Meta's own message (library and vendor wording such as
  "HTTPSConnectionPool(host=…): Max retries exceeded" or "(#100) Param … must be …" mean nothing to an agent): that
  goes to `error_detail`, with the code, HTTP status and fbtrace_id a developer needs.
* `graph_post(client, path, body)` sends and returns the id Meta assigned: `message_id` for the Send API
  (`{"recipient_id", "message_id"}`), `messages[0].id` (a `wamid.…`) for the Cloud API. `body` may be a list: the
  messages one of ours is made of (a card and its photos), posted in order.
* Body builders for Messenger / Instagram (`messenger_body`, `mark_seen_body`) and WhatsApp Cloud (`cloud_body`,
  `cloud_read_body`). Listing cards come from `switchboard.listings.cards` (the outbound service builds them).

Every Messenger / Instagram send carries `metadata = "switchboard:msg:<id>"` (inbox/sendable.py): Meta echoes it back
(`message_echoes`), so the inbound side recognises its own message even before the send task has stored the `mid`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from switchboard.meta.graph import RECONNECT_CODES, TRANSIENT_CODES, GraphClient, GraphError
from switchboard.platforms.registry import SendResult, send_in_parts

logger = logging.getLogger(__name__)

# Sentences for agents, by Meta error code (WhatsApp Cloud and Messenger / Instagram share the numbering).
SENTENCES: dict[int, str] = {
    131047: (
        "More than 24 hours have passed since the customer last wrote, so WhatsApp only allows an approved "
        "template message."
    ),
    131026: (
        "WhatsApp could not deliver this message: the number may not be on WhatsApp, may have blocked this "
        "business, or runs an old version of the app."
    ),
    131051: "WhatsApp does not support this type of message.",
    131052: "WhatsApp could not download the attached media.",
    131053: "WhatsApp could not upload the attached media (unsupported or too large).",
    131009: "WhatsApp refused a value in this message as invalid.",
    131008: "WhatsApp says a required part of this message is missing.",
    131021: "The recipient is this business's own number.",
    131031: "The WhatsApp Business account is locked or restricted by Meta.",
    131042: "WhatsApp refused the message because of a billing problem on the WhatsApp Business account.",
    131045: "The WhatsApp number is not registered for the Cloud API.",
    131048: "WhatsApp limited this number for spam: too many recent messages were blocked or reported.",
    131049: "Meta chose not to deliver this message to keep engagement healthy; try again later.",
    132000: "The template's parameters do not match what the approved template expects.",
    132001: "No approved template has this name in this language.",
    132005: "The template's text is too long once its parameters are filled in.",
    132007: "The template was refused by WhatsApp's content policy.",
    132012: "The template's parameters are in the wrong format.",
    132015: "The template is paused because of low quality.",
    132016: "The template is disabled because of low quality.",
    100: "The platform refused this message as invalid (a wrong parameter or recipient).",
    10: "The connected account lacks the permission to send this message.",
    200: "The connected account lacks the permission to send this message.",
    551: "This person is not available to receive messages right now.",
    # Meta's "temporarily blocked for policies violations": hours or days, longer than any retry of ours waits.
    368: "Meta has temporarily blocked this account from sending because of a policy violation; try again later.",
    190: "The account's access token expired or was revoked: reconnect the account.",
    102: "The account's session expired: reconnect the account.",
    463: "The account's access token expired: reconnect the account.",
    467: "The account's access token is no longer valid: reconnect the account.",
}
# Messenger / Instagram subcodes of code 10 / 100 that are about the messaging window.
WINDOW_SUBCODES = {2018278, 2018108, 2534022}
WINDOW_SENTENCE = (
    "The customer has not written within the window the platform allows replies in (24 hours, or 7 days for a "
    "human agent)."
)
TRANSIENT_SENTENCE = "The platform is busy or unreachable right now."
UNREACHABLE_SENTENCE = "The platform could not be reached (a network problem or a timeout)."


def classify(exc: GraphError) -> SendResult:
    """A failed Graph call as a SendResult (see the module docstring)."""
    code = exc.code
    needs_reconnect = exc.needs_reconnect or code in RECONNECT_CODES
    transient = not needs_reconnect and (
        exc.transient
        or code in TRANSIENT_CODES  # graph.py's list: throttling (4, 80007, 130429, 131056 …) and outages
        or (exc.status is not None and (exc.status >= 500 or exc.status == 429))
    )
    if code is not None:
        error_code = str(code)
    elif exc.status is not None:
        error_code = f"http_{exc.status}"
    else:
        error_code = "network"
    if transient:
        sentence = UNREACHABLE_SENTENCE if error_code == "network" else TRANSIENT_SENTENCE
    elif exc.subcode in WINDOW_SUBCODES:
        sentence = WINDOW_SENTENCE
    elif code is None:
        # No Meta envelope: a proxy's error page, an empty or non-JSON answer, a media upload without an id.
        sentence = "The platform answered in a way Switchboard did not expect" + (
            f" (HTTP {exc.status})." if exc.status is not None else "."
        )
    else:
        sentence = SENTENCES.get(code) or f"The platform refused this message (error {code})."
    return SendResult.failure(
        error_code,
        sentence,
        transient=transient,
        needs_reconnect=needs_reconnect,
        retry_after=exc.retry_after,
        detail=f"Graph API: {exc}",
    )


def graph_post(
    client: GraphClient, path: str, body: Mapping[str, Any] | Sequence[Mapping[str, Any]], **kwargs: Any
) -> SendResult:
    """POST a message; the id Meta gave it, or the classified error. `body` may also be the messages that make up
    one of ours, in order (a card: its cover, then its other photos — whatsapp/cards.py): the first one's answer is
    the message's (its failure is the message's, retried whole: nothing was sent); once it is accepted the others
    follow, and one of them failing loses only that photo — logged, and said in `error_detail` of the sent message,
    never sent twice by retrying the whole."""
    bodies = [body] if isinstance(body, Mapping) else list(body)
    return send_in_parts(
        [functools.partial(_post_one, client, path, part, **kwargs) for part in bodies], what=f"POST {path}"
    )


def _post_one(client: GraphClient, path: str, body: Mapping[str, Any], **kwargs: Any) -> SendResult:
    try:
        answer = client.request("POST", path, json=dict(body), **kwargs)
    except GraphError as exc:
        return classify(exc)
    message_id = answer.get("message_id")
    if not message_id:
        messages = answer.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            message_id = messages[0].get("id")
    if not message_id:
        # Accepted without an id: it was sent, but statuses and echoes cannot be matched to it.
        return SendResult(ok=True)
    return SendResult(platform_message_id=str(message_id))


def graph_call(client: GraphClient, method: str, path: str, **kwargs: Any) -> SendResult:
    """A call whose answer carries no message id (mark read, mark seen)."""
    try:
        client.request(method, path, **kwargs)
    except GraphError as exc:
        return classify(exc)
    return SendResult(ok=True)


# --- Messenger / Instagram ----------------------------------------------------------------------------------------


def messenger_body(
    *, recipient_id: str, message: dict[str, Any], human_agent: bool, metadata: str = ""
) -> dict[str, Any]:
    """A Send API body. Inside the 24-hour window a reply is `RESPONSE`; after it (up to 7 days) a human agent's
    reply is `MESSAGE_TAG` with the `HUMAN_AGENT` tag."""
    content = dict(message)
    if metadata:
        content["metadata"] = metadata
    body: dict[str, Any] = {"recipient": {"id": recipient_id}, "message": content}
    if human_agent:
        body.update(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    else:
        body["messaging_type"] = "RESPONSE"
    return body


def mark_seen_body(recipient_id: str) -> dict[str, Any]:
    return {"recipient": {"id": recipient_id}, "sender_action": "mark_seen"}


# Send API attachment types by message kind (Messenger calls documents "file").
MESSENGER_ATTACHMENT_TYPES = {"image": "image", "sticker": "image", "video": "video", "audio": "audio"}


def messenger_attachment(kind: str, url: str) -> dict[str, Any]:
    return {"attachment": {"type": MESSENGER_ATTACHMENT_TYPES.get(kind, "file"), "payload": {"url": url}}}
