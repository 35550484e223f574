"""The adapter Messenger and Instagram share (Messenger Platform webhooks, Page access token). Each app subclasses it
with its constants: the platform, its webhook `object` (`MessagingWebhook`) and, for Instagram, the Graph node it
sends from."""

from __future__ import annotations

from typing import Any

from switchboard.inbox.events import InboundEvent
from switchboard.meta.adapter import MetaWebhookAdapter
from switchboard.meta.messaging import MessagingWebhook, iter_messaging, parse_messaging_event
from switchboard.meta.page_send import MessagingOutboundMixin
from switchboard.platforms.delivery import Delivery
from switchboard.platforms.models import PlatformAccount
from switchboard.platforms.routing import accounts_by_external_id


class MessagingAdapter(MessagingOutboundMixin, MetaWebhookAdapter):
    webhook: MessagingWebhook
    # The Graph node messages are sent from and conversations listed on; empty: the account's own id (the Page).
    send_node: str = ""
    # A delivery with a valid signature whose body (or one of whose events) cannot be parsed is acknowledged (200)
    # and kept `failed` for a replay after the fix, instead of a 400 that Meta would retry with the same bytes for
    # 36 hours (webhooks/pipeline.py); `accounts_proven_by` (MetaWebhookAdapter) names the accounts it is proven for.
    acknowledge_unparseable = True

    def node(self, account: PlatformAccount) -> str:
        return self.send_node or super().node(account)

    def route(self, delivery: Delivery, payload: Any) -> list[tuple[PlatformAccount, Any]]:
        """Every `messaging[]` / `standby[]` event of every entry, paired with the connected account its entry id
        (the Page or Instagram account) names; events for accounts not connected here are left out."""
        self.webhook.check_object(payload)
        events = iter_messaging(payload)
        accounts = accounts_by_external_id(self.platform, self.provider, (entry_id for entry_id, _ in events))
        return [(accounts[entry_id], event) for entry_id, event in events if entry_id in accounts]

    def parse(self, account: PlatformAccount, raw_event: Any) -> list[InboundEvent]:
        # The account is the business side of the event: an event it sent is an echo.
        return parse_messaging_event(raw_event, business_id=account.external_id)
