"""A card: a rich message that says the same thing on every platform — platform-neutral, rendered by each adapter.

An app that has something to show a customer (a listing today) builds a `Card`; the adapter of the conversation's
platform turns it into its own wire format at send time (whatsapp/cards.py: WhatsApp Cloud, Twilio and bridges;
meta/cards.py: Messenger and Instagram; the sandbox only reads it). The card carries no platform's vocabulary and
the adapters know nothing of where it came from:

* `title` and `subtitle` — the headline and one line under it (Messenger's generic template shows these);
* `caption` — the whole card as one text, at most `CAPTION_LIMIT` characters, the tightest of the platforms (a
  WhatsApp caption): sent with the first image, or alone when there is none;
* `images` — signed image URLs, cover first; absolute (PUBLIC_BASE_URL) when a platform must fetch them, and
  empty when it cannot (inbox/sendable.py: `listing_card`);
* `buttons` — what the customer can answer with: a title and the reply id the platform sends back when pressed;
* `snapshot` — what the owner of the card stores with the message to render it again later (JSON; only that owner
  reads it back), e.g. when the listing has been deleted since.

The inbox reaches the card's owner through the hook registry (inbox/hooks.py: `LISTING_CARD`), never an import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CAPTION_LIMIT = 1024  # WhatsApp's caption and interactive-body limit, the tightest of the platforms


@dataclass(frozen=True)
class CardButton:
    title: str  # what the customer reads, at most 20 characters (WhatsApp and Messenger buttons)
    reply_id: str  # what the platform sends back when it is pressed, e.g. "listing:39:interested"


@dataclass(frozen=True)
class Card:
    title: str
    subtitle: str
    caption: str
    images: tuple[str, ...] = ()
    buttons: tuple[CardButton, ...] = ()
    snapshot: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def image(self) -> str | None:
        """The cover image, the one platforms that show a single image send."""
        return self.images[0] if self.images else None
