"""A demo agency with a living inbox, fed through MessageService like real traffic — and never leaving the machine.

* Its three accounts (WhatsApp, Messenger, Instagram) use the sandbox provider: sends succeed locally, statuses come
  back after realistic delays, and a scripted customer answers (`settings.simulate_replies`). Each has a webhook
  secret (`DEMO_WEBHOOK_SECRET`), so a signed test delivery to `/api/webhooks/sandbox/<platform>/` is accepted
  (`manage.py send_webhook_fixture`).
* The customers' media are small files the project ships (switchboard/sandbox/demo_media/): the messages carry
  sandbox media ids (`sandbox:<file>`) and the normal media pipeline stores them (type from bytes, thumbnails), so
  they render through the media API as any download would — no vendor, no DNS lookup, no network.
* The apps built on the inbox add their part through its DEMO_SEED hook (inbox/hooks.py), never an import: the
  listings app a listing (12 Oak Street, reference OAK12) with photos, whose card is in the WhatsApp thread
  (listings/demo.py). Each part may add payload to demo messages (the card's `listing_id`) and ids to the report.

Idempotent: message ids and the listing reference are fixed, so a second run finds everything stored. Demo data from
before the sandbox (Meta accounts with fake tokens, failed media) is brought over: the demo accounts become sandbox
accounts and media that never arrived is fetched again from the shipped files.

It ends by printing the login and the ids the docs' examples use (`--json` prints only those, as JSON).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from switchboard.accounts.models import Membership, Organization, Role, User
from switchboard.inbox import hooks
from switchboard.inbox.events import AttachmentRef, ContactProfile, InboundEvent, InboundMessage, Reaction
from switchboard.inbox.models import Attachment, AttachmentStatus, Conversation, Message, MessageKind
from switchboard.inbox.services.ingest import handle_events
from switchboard.inbox.tasks.media import download_attachment_task
from switchboard.platforms.models import Platform, PlatformAccount, Provider
from switchboard.platforms.registry import endpoint_for

DEMO_EMAIL = os.environ.get("DEMO_EMAIL", "demo@switchboard.local")
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "switchboard-demo")
# Sandbox accounts accept only deliveries signed with their own secret, and receive only sandbox traffic: a known
# secret for a local demo lets the docs' curl examples sign a test delivery.
DEMO_WEBHOOK_SECRET = os.environ.get("DEMO_WEBHOOK_SECRET", "switchboard-demo-webhook-secret")

ACCOUNTS = [
    (Platform.WHATSAPP, "Sunrise Realty WhatsApp", "106540352242922", "+15550783881"),
    (Platform.MESSENGER, "Sunrise Realty (Facebook Page)", "109876543210987", ""),
    (Platform.INSTAGRAM, "@sunrise.realty", "17841400000000001", ""),
]


@dataclass(frozen=True)
class DemoMedia:
    kind: str
    file: str  # in switchboard/sandbox/demo_media/
    mime_type: str
    filename: str = ""

    @property
    def ref(self) -> AttachmentRef:
        return AttachmentRef(
            kind=self.kind, media_id=f"sandbox:{self.file}", mime_type=self.mime_type, filename=self.filename
        )


def _photo(file: str) -> DemoMedia:
    return DemoMedia(MessageKind.IMAGE, file, "image/jpeg")


# The media of each demo message, by its platform message id (also what brings old demo data over).
MEDIA: dict[str, tuple[DemoMedia, ...]] = {
    "demo-wa-3": (_photo("kitchen.jpg"),),
    "demo-wa-8": (DemoMedia(MessageKind.DOCUMENT, "floorplan.pdf", "application/pdf", "floorplan.pdf"),),
    "demo-wa-9": (DemoMedia(MessageKind.AUDIO, "voice-note.wav", "audio/wav"),),
    # The demo's "video": an animation (the project ships no video encoder); shown as an image.
    "demo-wa-10": (DemoMedia(MessageKind.IMAGE, "walkthrough.gif", "image/gif", "walkthrough.gif"),),
    "demo-wa-12": (DemoMedia(MessageKind.STICKER, "sticker.webp", "image/webp"),),
    "demo-fb-4": (_photo("living-room.jpg"), _photo("bedroom.jpg"), _photo("kitchen.jpg")),
    "demo-ig-1": (_photo("terrace.jpg"),),
}


def _msg(
    pid: str,
    who: ContactProfile,
    at: datetime,
    kind: str = MessageKind.TEXT,
    text: str = "",
    *,
    echo: bool = False,
    **extra: Any,
) -> InboundMessage:
    attachments = tuple(media.ref for media in MEDIA.get(pid, ()))
    return InboundMessage(
        platform_message_id=pid,
        contact=who,
        timestamp=at,
        kind=kind,
        text=text,
        is_echo=echo,
        attachments=attachments,
        **extra,
    )


def demo_events(now: datetime, *, payloads: dict[str, dict[str, Any]] | None = None) -> dict[str, list[InboundEvent]]:
    """Per platform, conversations that show every message kind the inbox renders; `payloads` adds to the payload
    of demo messages, by platform message id (the apps' DemoParts)."""
    events = _demo_events(now)
    extra = payloads or {}
    return {
        platform: [
            dataclasses.replace(event, payload={**event.payload, **extra[event.platform_message_id]})
            if isinstance(event, InboundMessage) and event.platform_message_id in extra
            else event
            for event in platform_events
        ]
        for platform, platform_events in events.items()
    }


def _demo_events(now: datetime) -> dict[str, list[InboundEvent]]:
    t = lambda minutes: now - timedelta(minutes=minutes)  # noqa: E731 - reads best inline here
    maria = ContactProfile("14155550101", name="Maria Gonzalez", phone_number="14155550101")
    james = ContactProfile("447700900123", name="James Whitaker", phone_number="+44 7700 900123")
    priya = ContactProfile("919812345678", name="Priya Nair", phone_number="919812345678")
    tom = ContactProfile("6051234567890123", name="Tom Becker")
    lena = ContactProfile("6051234567890456", name="Lena Fischer")
    ana = ContactProfile("17841455500000011", name="Ana Souza", username="ana.souza.home")
    kai = ContactProfile("17841455500000022", name="Kai Tanaka", username="kai.t")
    card = {"title": "12 Oak Street", "price": "485000", "currency": "USD", "bedrooms": 3, "location": "Oakland, CA"}
    return {
        Platform.WHATSAPP: [
            _msg("demo-wa-1", maria, t(300), text="Hi! Is the 3-bedroom on Oak Street still available?"),
            _msg("demo-wa-2", maria, t(295), text="Yes, it is! Would you like to visit this week?", echo=True),
            _msg("demo-wa-3", maria, t(290), MessageKind.IMAGE, "Is this the kitchen?"),
            _msg(
                "demo-wa-4",
                maria,
                t(280),
                MessageKind.LISTING_CARD,
                "🏠 12 Oak Street — $485,000",
                echo=True,
                payload={"card": card},
            ),
            Reaction(target_platform_message_id="demo-wa-4", contact=maria, emoji="❤️", timestamp=t(279)),
            _msg(
                "demo-wa-5",
                maria,
                t(270),
                MessageKind.INTERACTIVE,
                "Saturday 10:00",
                payload={"interactive": {"type": "button_reply", "id": "slot-sat-10", "title": "Saturday 10:00"}},
            ),
            _msg(
                "demo-wa-6",
                james,
                t(200),
                MessageKind.LOCATION,
                "",
                payload={
                    "latitude": 51.5033,
                    "longitude": -0.1196,
                    "name": "Current flat",
                    "address": "Westminster Bridge Rd, London",
                },
            ),
            _msg("demo-wa-7", james, t(198), text="I'd like to sell this one. Can you value it?"),
            _msg("demo-wa-8", james, t(190), MessageKind.DOCUMENT, "Floor plan"),
            _msg("demo-wa-9", james, t(185), MessageKind.AUDIO, ""),
            _msg("demo-wa-10", priya, t(60), MessageKind.IMAGE, "Walkthrough of my current place"),
            _msg(
                "demo-wa-11",
                priya,
                t(58),
                MessageKind.CONTACTS,
                "",
                payload={
                    "contacts": [
                        {
                            "name": {"formatted_name": "Raj Nair"},
                            "phones": [{"phone": "+91 98123 00000", "type": "CELL"}],
                        }
                    ]
                },
            ),
            _msg("demo-wa-12", priya, t(57), MessageKind.STICKER, ""),
            _msg("demo-wa-13", priya, t(55), MessageKind.SYSTEM, "Priya changed her phone number."),
            _msg(
                "demo-wa-14",
                priya,
                t(50),
                MessageKind.UNSUPPORTED,
                "",
                payload={"type": "unsupported", "errors": [{"code": 131051, "title": "Message type unknown"}]},
            ),
        ],
        Platform.MESSENGER: [
            _msg("demo-fb-1", tom, t(400), text="Hello, do you have rentals near the university?"),
            _msg("demo-fb-2", tom, t(395), text="We have two. Sending details now.", echo=True),
            _msg("demo-fb-3", tom, t(30), text="Great, the second one looks perfect 👍"),
            _msg("demo-fb-4", lena, t(20), MessageKind.IMAGE, ""),
            _msg(
                "demo-fb-5",
                lena,
                t(19),
                MessageKind.INTERACTIVE,
                "Book a viewing",
                payload={"postback": {"payload": "BOOK_VIEWING"}},
            ),
        ],
        Platform.INSTAGRAM: [
            _msg("demo-ig-1", ana, t(90), MessageKind.IMAGE, "", payload={"story_reply": True}),
            _msg("demo-ig-2", ana, t(88), text="Love this penthouse! What's the price?"),
            _msg("demo-ig-3", kai, t(10), text="Is the studio on 5th pet friendly?"),
        ],
    }


def demo_media_folder() -> Path:
    # Found through the app registry, not an import: nothing imports the sandbox app (docs/architecture.md).
    return Path(apps.get_app_config("sandbox").path) / "demo_media"


class Command(BaseCommand):
    help = (
        "Create (once) the demo agency, its owner login, one sandbox account per platform and realistic conversations."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print only the demo's ids, as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        organization, user = self._tenant()
        accounts: dict[str, PlatformAccount] = {
            platform: self._account(organization, platform, *rest) for platform, *rest in ACCOUNTS
        }
        parts: list[hooks.DemoPart] = hooks.collect(
            hooks.DEMO_SEED, organization=organization, user=user, media_folder=demo_media_folder()
        )
        payloads: dict[str, dict[str, Any]] = {}
        for part in parts:
            for platform_message_id, extra in part.message_payloads.items():
                payloads.setdefault(platform_message_id, {}).update(extra)
        stored = 0
        for platform, events in demo_events(timezone.now(), payloads=payloads).items():
            outcomes = handle_events(accounts[platform], events)
            stored += sum(1 for outcome in outcomes if outcome == "created")
        media = self._store_media(accounts.values())
        ids = self._ids(organization, accounts, parts)
        if options["json"]:
            self.stdout.write(json.dumps(ids, indent=2))
            return
        self._report(organization, stored, media, ids, parts)

    # --- the tenant -----------------------------------------------------------------------------------------------
    def _tenant(self) -> tuple[Organization, User]:
        with transaction.atomic():
            organization, _ = Organization.objects.get_or_create(
                slug="demo-agency", defaults={"name": "Sunrise Realty (demo)"}
            )
            user = User.objects.filter(email=DEMO_EMAIL).first()
            if user is None:
                user = User.objects.create_user(
                    DEMO_EMAIL, DEMO_PASSWORD, full_name="Demo Owner", is_staff=True, is_superuser=True
                )
            Membership.objects.get_or_create(user=user, organization=organization, defaults={"role": Role.OWNER})
        return organization, user

    def _account(
        self, organization: Organization, platform: str, name: str, external_id: str, phone: str
    ) -> PlatformAccount:
        sandbox = {
            "provider": Provider.SANDBOX,
            "credentials": {},
            "webhook_secret": DEMO_WEBHOOK_SECRET,
            "needs_reconnect": False,
            "is_active": True,
        }
        with transaction.atomic():
            # Demo data from before the sandbox: the same account on the Meta provider, with a token that never
            # worked. It becomes the sandbox account, keeping its conversations.
            mine = PlatformAccount.objects.filter(organization=organization, platform=platform, external_id=external_id)
            account = mine.filter(provider=Provider.SANDBOX).first() or mine.order_by("id").first()
            if account is None:
                account = PlatformAccount.objects.create(
                    organization=organization,
                    platform=platform,
                    external_id=external_id,
                    display_name=name,
                    phone_number=phone,
                    settings={"simulate_replies": True},
                    **sandbox,
                )
            elif account.provider != Provider.SANDBOX or account.webhook_secret != DEMO_WEBHOOK_SECRET:
                for field, value in sandbox.items():
                    setattr(account, field, value)
                account.settings = {**(account.settings or {}), "simulate_replies": True}
                account.save()
        return account

    # --- media ----------------------------------------------------------------------------------------------------
    def _store_media(self, accounts: Any) -> dict[str, int]:
        """Store every demo attachment that is not stored yet, from the shipped files, through the media task's own
        code (type check, thumbnail, then the MESSAGE_MEDIA_SETTLED hook) — here and now, whether or not a worker
        runs or MEDIA_AUTO_DOWNLOAD is on. Old demo attachments that failed are pointed at the shipped files first."""
        messages = Message.objects.filter(platform_account__in=list(accounts), platform_message_id__in=list(MEDIA))
        for message in messages:
            assert message.platform_message_id is not None  # filtered on it above
            wanted = MEDIA[message.platform_message_id]
            if message.kind != wanted[0].kind:
                Message.objects.filter(pk=message.pk).update(kind=wanted[0].kind)
            for attachment, media in zip(message.attachments.order_by("id"), wanted, strict=False):
                if attachment.status == AttachmentStatus.STORED:
                    continue
                Attachment.objects.filter(pk=attachment.pk).update(
                    kind=media.kind,
                    media_id=media.ref.media_id,
                    source_url="",
                    mime_type=media.mime_type,
                    filename=media.filename,
                    status=AttachmentStatus.PENDING,
                    error="",
                )
        pending = Attachment.objects.filter(message__in=messages, status=AttachmentStatus.PENDING)
        for attachment_id in pending.values_list("pk", flat=True):
            download_attachment_task.apply(args=(attachment_id,))
        counts = {"stored": 0, "failed": 0}
        for status in Attachment.objects.filter(message__in=messages).values_list("status", flat=True):
            counts["stored" if status == AttachmentStatus.STORED else "failed"] += 1
        return counts

    # --- what it prints -------------------------------------------------------------------------------------------
    def _ids(
        self, organization: Organization, accounts: dict[str, PlatformAccount], parts: list[hooks.DemoPart]
    ) -> dict[str, Any]:
        conversation = (
            Conversation.objects.filter(platform_account=accounts[Platform.WHATSAPP], contact__name="Maria Gonzalez")
            .select_related("contact")
            .first()
        )
        return {
            "login": {"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
            "organization": {"id": organization.pk, "slug": organization.slug, "name": organization.name},
            "accounts": {
                platform: {
                    "id": account.pk,
                    "provider": account.provider,
                    "external_id": account.external_id,
                    "webhook_url": reverse(f"webhook-{endpoint_for(platform, account.provider)}"),
                    "webhook_secret": DEMO_WEBHOOK_SECRET,
                }
                for platform, account in accounts.items()
            },
            "conversation": {
                "id": conversation.pk,
                "platform": conversation.platform,
                "contact": conversation.contact.name,
                "contact_external_id": conversation.contact.external_id,
            }
            if conversation
            else None,
            **{part.name: part.ids for part in parts},
        }

    def _report(
        self,
        organization: Organization,
        stored: int,
        media: dict[str, int],
        ids: dict[str, Any],
        parts: list[hooks.DemoPart],
    ) -> None:
        failed = f", {media['failed']} NOT stored" if media["failed"] else ""
        lines = [
            self.style.SUCCESS(
                f"Demo agency '{organization.name}': {stored} new messages, {media['stored']} media stored{failed}."
            ),
            f"  Log in as {DEMO_EMAIL} / {DEMO_PASSWORD} (also the Django admin at /admin/).",
            f"  Organization {ids['organization']['id']} (X-Organization: {ids['organization']['slug']}).",
            "  Accounts on the sandbox provider (sends succeed locally; a scripted customer answers):",
        ]
        for platform, account in ids["accounts"].items():
            lines.append(
                f"    {platform:<10} account {account['id']:<4} external_id {account['external_id']:<18} "
                f"webhooks {account['webhook_url']}"
            )
        lines.append(f"    webhook secret of the demo accounts: {DEMO_WEBHOOK_SECRET}")
        if ids["conversation"]:
            conversation = ids["conversation"]
            lines.append(
                f"  Conversation {conversation['id']}: {conversation['contact']} on {conversation['platform']}."
            )
        lines.extend(part.report for part in parts if part.report)
        self.stdout.write("\n".join(lines))
