"""Instagram messaging through the Graph API: `object: instagram` webhooks."""

from __future__ import annotations

from typing import Any

from switchboard.inbox.events import InboundEvent
from switchboard.instagram import parser
from switchboard.meta.adapter import MetaWebhookAdapter
from switchboard.meta.outbound import MessagingOutboundMixin
from switchboard.meta.routing import route_messaging
from switchboard.platforms.delivery import Delivery
from switchboard.platforms.models import Platform, PlatformAccount


class InstagramAdapter(MessagingOutboundMixin, MetaWebhookAdapter):
    platform = Platform.INSTAGRAM

    def node(self, account: PlatformAccount) -> str:
        # Messenger Platform for Instagram: the Page linked to the account sends and lists its conversations; the
        # Page token's `me` is that Page (the account's external_id is the Instagram id webhooks carry).
        return "me"

    def route(self, delivery: Delivery, payload: Any) -> list[tuple[PlatformAccount, Any]]:
        parser.check_object(payload)
        return route_messaging(self.platform, payload, self.provider)

    def parse(self, account: PlatformAccount, raw_event: Any) -> list[InboundEvent]:
        return parser.parse_event(raw_event, account_id=account.external_id)
