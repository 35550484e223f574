"""Facebook Messenger through the Graph API: `object: page` webhooks."""

from __future__ import annotations

from switchboard.messenger.parser import MESSENGER
from switchboard.meta.messaging_adapter import MessagingAdapter
from switchboard.platforms.models import Platform


class MessengerAdapter(MessagingAdapter):
    """Sends and lists conversations on the Page itself (`external_id` is the Page id)."""

    platform = Platform.MESSENGER
    webhook = MESSENGER
