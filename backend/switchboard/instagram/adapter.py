"""Instagram messaging through the Graph API: `object: instagram` webhooks."""

from __future__ import annotations

from switchboard.instagram.parser import INSTAGRAM
from switchboard.meta.messaging_adapter import MessagingAdapter
from switchboard.platforms.models import Platform


class InstagramAdapter(MessagingAdapter):
    platform = Platform.INSTAGRAM
    webhook = INSTAGRAM
    # Messenger Platform for Instagram: the Page linked to the account sends and lists its conversations; the Page
    # token's `me` is that Page (the account's external_id is the Instagram id webhooks carry).
    send_node = "me"
