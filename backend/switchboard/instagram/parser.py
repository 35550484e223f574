"""Instagram messaging webhook bodies (`object: instagram`) → normalized inbox events. Pure: no database.

The parser is `meta.messaging`'s, which Messenger shares: only the object differs. What is Instagram's own there:
`story_mention` attachments and replies to stories (`reply_to.story`) — CDN URLs that expire within about a day and
whose media Meta forbids storing, so they are marked in `payload["story"]` —, shared posts (`share`) and reels
(`reel`, `ig_reel`), the `like_heart`, unsends (`is_deleted` → MessageDeleted), `is_unsupported` content, echoes
delivered under the `messages` field, and `read` (messaging_seen) naming a `mid` rather than a watermark. Timestamps
may be seconds. Referrals (ads, ig.me links) become notices and the contact's `referral` attribute, as on Messenger.
"""

from __future__ import annotations

from switchboard.meta.messaging import MessagingWebhook

INSTAGRAM = MessagingWebhook(object="instagram", body_name="an Instagram webhook body")
