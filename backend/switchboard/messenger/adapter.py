"""Facebook Messenger through the Graph API: `object: page` webhooks."""

from __future__ import annotations

from typing import Any

from switchboard.inbox.events import InboundEvent
from switchboard.messenger import parser
from switchboard.meta.adapter import MetaWebhookAdapter
from switchboard.meta.outbound import MessagingOutboundMixin
from switchboard.meta.routing import route_messaging
from switchboard.platforms.delivery import Delivery
from switchboard.platforms.models import Platform, PlatformAccount


class MessengerAdapter(MessagingOutboundMixin, MetaWebhookAdapter):
    """Sends and lists conversations on the Page itself (`external_id` is the Page id)."""

    platform = Platform.MESSENGER

    def route(self, delivery: Delivery, payload: Any) -> list[tuple[PlatformAccount, Any]]:
        parser.check_object(payload)
        return route_messaging(self.platform, payload, self.provider)

    def parse(self, account: PlatformAccount, raw_event: Any) -> list[InboundEvent]:
        return parser.parse_event(raw_event, page_id=account.external_id)
