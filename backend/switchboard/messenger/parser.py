"""Messenger webhook bodies (`object: page`) → normalized inbox events. Pure: no database.

The parser is `meta.messaging`'s, which Instagram shares: only the object differs. What is Messenger's own there:
postbacks (buttons, Get Started, persistent menu), `fallback` link shares and `template` echoes (our listing cards),
stickers as images with a `sticker_id` (the like button also as 👍), `delivery` receipts with `mids` (Instagram has
none), referrals from ads, m.me links and the chat plugin, and opt-ins (recurring notification messages): both
become notices in the thread and the contact's `referral` / `optin` attributes.
"""

from __future__ import annotations

from switchboard.meta.messaging import MessagingWebhook

MESSENGER = MessagingWebhook(object="page", body_name="a Messenger webhook body")
