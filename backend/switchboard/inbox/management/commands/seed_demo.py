"""A demo agency with a living inbox, fed through MessageService like real traffic. Idempotent: message ids are
fixed, so a second run finds every message already stored."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from switchboard.accounts.models import Membership, Organization, Role, User
from switchboard.inbox.events import AttachmentRef, ContactProfile, InboundEvent, InboundMessage, Reaction
from switchboard.inbox.models import MessageKind
from switchboard.inbox.services.ingest import handle_events
from switchboard.platforms.models import Platform, PlatformAccount, Provider

DEMO_EMAIL = os.environ.get("DEMO_EMAIL", "demo@switchboard.local")
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "switchboard-demo")

ACCOUNTS = [
    (Platform.WHATSAPP, Provider.META, "Sunrise Realty WhatsApp", "106540352242922", "+15550783881"),
    (Platform.MESSENGER, Provider.META, "Sunrise Realty (Facebook Page)", "109876543210987", ""),
    (Platform.INSTAGRAM, Provider.META, "@sunrise.realty", "17841400000000001", ""),
]


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
    return InboundMessage(
        platform_message_id=pid, contact=who, timestamp=at, kind=kind, text=text, is_echo=echo, **extra
    )


def demo_events(now: datetime) -> dict[str, list[InboundEvent]]:
    """Per platform, conversations that show every message kind the inbox renders."""
    t = lambda minutes: now - timedelta(minutes=minutes)  # noqa: E731 - reads best inline here
    maria = ContactProfile("14155550101", name="Maria Gonzalez", phone_number="14155550101")
    james = ContactProfile("447700900123", name="James Whitaker", phone_number="+44 7700 900123")
    priya = ContactProfile("919812345678", name="Priya Nair", phone_number="919812345678")
    tom = ContactProfile("6051234567890123", name="Tom Becker")
    lena = ContactProfile("6051234567890456", name="Lena Fischer")
    ana = ContactProfile("17841455500000011", name="Ana Souza", username="ana.souza.home")
    kai = ContactProfile("17841455500000022", name="Kai Tanaka", username="kai.t")
    photo = lambda n: AttachmentRef(kind=MessageKind.IMAGE, media_id=f"demo-media-{n}", mime_type="image/jpeg")  # noqa: E731
    return {
        Platform.WHATSAPP: [
            _msg("demo-wa-1", maria, t(300), text="Hi! Is the 3-bedroom on Oak Street still available?"),
            _msg("demo-wa-2", maria, t(295), text="Yes, it is! Would you like to visit this week?", echo=True),
            _msg("demo-wa-3", maria, t(290), MessageKind.IMAGE, "Is this the kitchen?", attachments=(photo(1),)),
            _msg(
                "demo-wa-4",
                maria,
                t(280),
                MessageKind.LISTING_CARD,
                "🏠 12 Oak Street — $485,000",
                echo=True,
                payload={
                    "card": {
                        "title": "12 Oak Street",
                        "price": "485000",
                        "currency": "USD",
                        "bedrooms": 3,
                        "location": "Oakland, CA",
                    }
                },
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
            _msg(
                "demo-wa-8",
                james,
                t(190),
                MessageKind.DOCUMENT,
                "Floor plan",
                attachments=(
                    AttachmentRef(
                        kind=MessageKind.DOCUMENT,
                        media_id="demo-media-doc",
                        mime_type="application/pdf",
                        filename="floorplan.pdf",
                    ),
                ),
            ),
            _msg(
                "demo-wa-9",
                james,
                t(185),
                MessageKind.AUDIO,
                "",
                attachments=(
                    AttachmentRef(
                        kind=MessageKind.AUDIO, media_id="demo-media-voice", mime_type="audio/ogg; codecs=opus"
                    ),
                ),
            ),
            _msg(
                "demo-wa-10",
                priya,
                t(60),
                MessageKind.VIDEO,
                "Walkthrough of my current place",
                attachments=(
                    AttachmentRef(kind=MessageKind.VIDEO, media_id="demo-media-video", mime_type="video/mp4"),
                ),
            ),
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
            _msg(
                "demo-wa-12",
                priya,
                t(57),
                MessageKind.STICKER,
                "",
                attachments=(
                    AttachmentRef(kind=MessageKind.STICKER, media_id="demo-media-sticker", mime_type="image/webp"),
                ),
            ),
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
            _msg("demo-fb-4", lena, t(20), MessageKind.IMAGE, "", attachments=(photo(2), photo(3), photo(4))),
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
            _msg(
                "demo-ig-1", ana, t(90), MessageKind.IMAGE, "", payload={"story_reply": True}, attachments=(photo(5),)
            ),
            _msg("demo-ig-2", ana, t(88), text="Love this penthouse! What's the price?"),
            _msg("demo-ig-3", kai, t(10), text="Is the studio on 5th pet friendly?"),
        ],
    }


class Command(BaseCommand):
    help = "Create (once) the demo agency, its owner login, one account per platform and realistic conversations."

    def handle(self, *args: Any, **options: Any) -> None:
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
            accounts = {}
            for platform, provider, name, external_id, phone in ACCOUNTS:
                account, _ = PlatformAccount.objects.get_or_create(
                    platform=platform,
                    provider=provider,
                    external_id=external_id,
                    defaults={
                        "organization": organization,
                        "display_name": name,
                        "phone_number": phone,
                        "credentials": {"access_token": "demo-token-not-valid"},
                    },
                )
                accounts[platform] = account
        stored = 0
        for platform, events in demo_events(timezone.now()).items():
            outcomes = handle_events(accounts[platform], events)
            stored += sum(1 for o in outcomes if o == "created")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo agency '{organization.name}': {stored} new messages.\n"
                f"  Log in as {DEMO_EMAIL} / {DEMO_PASSWORD} (also the Django admin at /admin/)."
            )
        )
