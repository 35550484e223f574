"""Bulk demo data for measuring the web app at scale: many conversations, and one very long thread.

    manage.py seed_demo                      # the demo agency and its three sandbox accounts (needed first)
    manage.py seed_bulk                      # + 10,000 conversations and a 20,000-message thread
    manage.py seed_bulk --conversations 500 --thread-messages 2000 --json

Everything goes into one organization (`--organization`, default the demo agency `demo-agency`): the contacts,
conversations and messages carry its `organization` and one of its own platform accounts (WhatsApp, Messenger and
Instagram in turn), never another tenant's. Rows are written with `bulk_create` in one transaction — no
MessageService, no events, no WebSocket broadcast, no sends — with each conversation's counters (`last_message_at`,
preview, `last_inbound_at`, `unread_count`) set as the service would have left them.

Its activity is older than the demo conversations' (it ends `--hours-ago` hours ago, 8 by default), so the demo
threads stay at the top of the inbox: the long thread first, then the bulk conversations one minute apart.

Rerunnable: every row has a fixed identity (contact `external_id`, message `platform_message_id` prefixed `bulk-`),
so a second run with the same counts creates nothing, and a run with larger counts adds only what is missing (the
conversations it adds messages to get their counters recomputed from the database).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from switchboard.accounts.models import Membership, Organization, Role, User
from switchboard.inbox.models import Contact, Conversation, Direction, Message, MessageKind, MessageStatus
from switchboard.inbox.services.ingest import message_preview
from switchboard.platforms.models import Platform, PlatformAccount

PREFIX = "bulk-"
LONG_THREAD_NAME = "Long Thread (bulk)"
LONG_THREAD_EXTERNAL_ID = "+19980000000"
PLATFORMS = (Platform.WHATSAPP, Platform.MESSENGER, Platform.INSTAGRAM)
BATCH = 2000

# fmt: off
FIRST = (
    "Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Gray", "Harper", "Indigo", "Jordan", "Kendall", "Logan",
    "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Sage", "Taylor", "Umar", "Vera", "Wren", "Xiomara",
    "Yusuf", "Zoe", "Amara", "Bruno", "Chiara", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ivo", "Jana", "Kofi",
    "Lucia", "Mateo", "Nadia", "Omar", "Paula", "Rafael", "Sofia", "Tariq", "Ulla", "Viktor", "Wanda", "Ximena",
    "Yara",
)
LAST = (
    "Abbott", "Barros", "Chen", "Dubois", "Eriksen", "Ferreira", "Garcia", "Haddad", "Ito", "Jensen", "Kowalski",
    "Larsen", "Moreau", "Novak", "Okafor", "Petrov", "Quintero", "Rossi", "Sato", "Tanaka", "Ueda", "Varga", "Weber",
    "Xu", "Yilmaz", "Zimmer", "Andersen", "Bianchi", "Costa", "Dimitrov",
)
# fmt: on
TOPICS = (
    "the 2-bedroom on Elm Street",
    "a viewing on Saturday morning",
    "the deposit and the first month's rent",
    "parking near the flat",
    "whether pets are allowed",
    "the energy certificate",
    "the garden apartment you listed",
    "moving in at the start of next month",
)


def contact_name(i: int) -> str:
    return f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}"


def contact_external_id(platform: str, i: int) -> str:
    """A phone number for WhatsApp (what its contacts are keyed by), a PSID / IGSID-like number elsewhere."""
    return f"+1999{i:07d}" if platform == Platform.WHATSAPP else f"99{i:014d}"


def long_thread_text(j: int, total: int) -> str:
    """Deterministic and varied: short, medium and multi-line messages (the thread measures every row)."""
    n = f"#{j + 1}"
    topic = TOPICS[j % len(TOPICS)]
    if j % 10 == 0:
        return (
            f"{n} A longer note about {topic}.\nWe went through the details again: dates, the inventory, who "
            f"holds the keys.\nTell me if anything is missing and I will add it to the file ({j + 1} of {total})."
        )
    if j % 4 == 1:
        return f"{n} Ok 👍"
    if j % 50 == 7:
        return f"{n} The listing is here: https://example.com/listings/{j}"
    return f"{n} About {topic}: does that still work for you?"


@dataclass
class Planned:
    """The messages one conversation should have, oldest first, and the counters they give it."""

    messages: list[Message] = field(default_factory=list)

    def counters(self) -> dict[str, Any]:
        last = self.messages[-1]
        inbound = [m for m in self.messages if m.direction == Direction.INBOUND]
        return {
            "last_message_at": last.timestamp,
            "last_message_preview": message_preview(last.kind, last.text),
            "last_inbound_at": inbound[-1].timestamp if inbound else None,
            "unread_count": sum(1 for m in inbound if not m.is_read),
        }


class Command(BaseCommand):
    help = "Bulk-create conversations and one long thread for the demo organization (performance measurements)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", default="demo-agency", help="Slug of the organization (demo-agency).")
        parser.add_argument("--conversations", type=int, default=10_000, help="Bulk conversations (10,000).")
        parser.add_argument(
            "--messages-per-conversation", type=int, default=1, help="Messages in each bulk conversation (1)."
        )
        parser.add_argument(
            "--thread-messages", type=int, default=20_000, help="Messages in the one long thread (20,000; 0: none)."
        )
        parser.add_argument(
            "--hours-ago", type=float, default=8.0, help="The bulk activity ends this many hours ago (8)."
        )
        parser.add_argument("--json", action="store_true", help="Print only the counts and ids, as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        conversations = options["conversations"]
        per_conversation = options["messages_per_conversation"]
        thread_messages = options["thread_messages"]
        if conversations < 0 or thread_messages < 0 or per_conversation < 1:
            raise CommandError(
                "Counts are whole numbers: --conversations >= 0, --thread-messages >= 0, "
                "--messages-per-conversation >= 1."
            )
        organization = Organization.objects.filter(slug=options["organization"]).first()
        if organization is None:
            raise CommandError(f"No organization '{options['organization']}': run `manage.py seed_demo` first.")
        accounts = self._accounts(organization)
        agent = self._agent(organization)
        anchor = timezone.now() - timedelta(hours=options["hours_ago"])
        started = timezone.now()

        with transaction.atomic():
            created = {"contacts": 0, "conversations": 0, "messages": 0}
            long_thread = None
            if thread_messages:
                long_thread = self._long_thread(organization, accounts[0], agent, anchor, thread_messages, created)
            self._bulk_conversations(organization, accounts, agent, anchor, conversations, per_conversation, created)

        seconds = (timezone.now() - started).total_seconds()
        scope = Conversation.objects.for_organization(organization)
        result: dict[str, Any] = {
            "organization": {"id": organization.pk, "slug": organization.slug},
            "created": created,
            "seconds": round(seconds, 2),
            "totals": {
                "conversations": scope.count(),
                "bulk_conversations": scope.filter(contact__metadata__seed_bulk=True).count(),
                "messages": Message.objects.for_organization(organization).count(),
            },
            "long_thread": {
                "id": long_thread.pk,
                "contact": LONG_THREAD_NAME,
                "messages": long_thread.messages.count(),
            }
            if long_thread
            else None,
        }
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        lines = [
            self.style.SUCCESS(
                f"Bulk data for '{organization.name}': {created['contacts']} contacts, {created['conversations']} "
                f"conversations, {created['messages']} messages created in {seconds:.1f} s."
            ),
            f"  The organization now has {result['totals']['conversations']} conversations and "
            f"{result['totals']['messages']} messages.",
        ]
        if long_thread:
            lines.append(
                f"  Long thread: conversation {long_thread.pk} ({LONG_THREAD_NAME}), "
                f"{result['long_thread']['messages']} messages."
            )
        self.stdout.write("\n".join(lines))

    # --- the tenant's own accounts and agent -----------------------------------------------------------------------
    def _accounts(self, organization: Organization) -> list[PlatformAccount]:
        """The organization's first active account of each platform, WhatsApp first."""
        found: list[PlatformAccount] = []
        mine = PlatformAccount.objects.filter(organization=organization, is_active=True).order_by("id")
        for platform in PLATFORMS:
            account = mine.filter(platform=platform).first()
            if account is not None:
                found.append(account)
        if not found:
            raise CommandError(f"Organization '{organization.slug}' has no active platform account: run seed_demo.")
        return found

    def _agent(self, organization: Organization) -> User | None:
        membership = (
            Membership.objects.filter(organization=organization, role=Role.OWNER).select_related("user").first()
        )
        return membership.user if membership else None

    # --- the long thread ---------------------------------------------------------------------------------------------
    def _long_thread(
        self,
        organization: Organization,
        account: PlatformAccount,
        agent: User | None,
        anchor: datetime,
        total: int,
        created: dict[str, int],
    ) -> Conversation:
        contact = self._contacts(organization, account, {LONG_THREAD_EXTERNAL_ID: LONG_THREAD_NAME}, created)[
            LONG_THREAD_EXTERNAL_ID
        ]
        existing = Conversation.objects.filter(platform_account=account, contact=contact).first()
        is_new = existing is None
        conversation = existing or Conversation(
            organization=organization, platform_account=account, contact=contact, platform=account.platform
        )
        times = self._thread_times(conversation, anchor, total, is_new)
        plan = Planned()
        for j in range(total):
            # Runs of three per side.
            inbound = (j // 3) % 2 == 0
            plan.messages.append(
                self._message(
                    organization,
                    conversation,
                    account,
                    agent,
                    pid=f"{PREFIX}long-{j}",
                    at=times[j],
                    text=long_thread_text(j, total),
                    inbound=inbound,
                    # The customer's messages among the last six are unread; everything older was read.
                    unread=inbound and j >= total - 6,
                    newest_outbound=not inbound and j >= total - 6,
                )
            )
        if is_new:
            for name, value in plan.counters().items():
                setattr(conversation, name, value)
            conversation.save()
            created["conversations"] += 1
        added = self._insert_missing(account, [(conversation, plan)], created)
        if not is_new and added:
            self._recount([conversation.pk])
        return conversation

    def _thread_times(self, conversation: Conversation, anchor: datetime, total: int, is_new: bool) -> list[datetime]:
        """Two minutes apart, the newest at `anchor` (about four weeks of days for 20,000). A thread seeded before
        with fewer messages keeps its times, and the new messages (#n+1 onwards) come after its newest."""
        times = [anchor - timedelta(minutes=2 * (total - 1 - j)) for j in range(total)]
        if is_new:
            return times
        bulk = Message.objects.filter(conversation=conversation, platform_message_id__startswith=f"{PREFIX}long-")
        stored = bulk.count()
        newest = bulk.aggregate(newest=Max("timestamp"))["newest"]
        if newest is None or stored >= total:
            return times
        step = min(timedelta(minutes=2), max(timedelta(seconds=1), (anchor - newest) / (total - stored)))
        return times[:stored] + [newest + step * (j - stored + 1) for j in range(stored, total)]

    # --- many conversations -----------------------------------------------------------------------------------------
    def _bulk_conversations(
        self,
        organization: Organization,
        accounts: list[PlatformAccount],
        agent: User | None,
        anchor: datetime,
        count: int,
        per_conversation: int,
        created: dict[str, int],
    ) -> None:
        for start in range(0, count, BATCH):
            indexes = range(start, min(count, start + BATCH))
            by_account: dict[int, list[int]] = {}
            for i in indexes:
                by_account.setdefault(i % len(accounts), []).append(i)
            for slot, numbers in by_account.items():
                account = accounts[slot]
                wanted = {contact_external_id(account.platform, i): contact_name(i) for i in numbers}
                contacts = self._contacts(organization, account, wanted, created)
                existing = {
                    c.contact_id: c
                    for c in Conversation.objects.filter(
                        platform_account=account, contact__in=[c.pk for c in contacts.values()]
                    )
                }
                plans: list[tuple[Conversation, Planned]] = []
                new: list[Conversation] = []
                for i in numbers:
                    contact = contacts[contact_external_id(account.platform, i)]
                    conversation = existing.get(contact.pk)
                    is_new = conversation is None
                    if conversation is None:
                        conversation = Conversation(
                            organization=organization,
                            platform_account=account,
                            contact=contact,
                            platform=account.platform,
                        )
                        new.append(conversation)
                    plan = Planned()
                    last_at = anchor - timedelta(minutes=i + 1)
                    for k in range(per_conversation):
                        # The customer wrote last (and every other message before that).
                        inbound = (per_conversation - 1 - k) % 2 == 0
                        plan.messages.append(
                            self._message(
                                organization,
                                conversation,
                                account,
                                agent,
                                pid=f"{PREFIX}{i}-{k}",
                                at=last_at - timedelta(seconds=20 * (per_conversation - 1 - k)),
                                text=f"Hello, I'm asking about {TOPICS[(i + k) % len(TOPICS)]} ({i + 1}.{k + 1})"
                                if inbound
                                else "Hi! Thanks for your interest. How can we help?",
                                inbound=inbound,
                                unread=inbound and k == per_conversation - 1 and i % 7 == 0,
                                newest_outbound=False,
                            )
                        )
                    if is_new:
                        for name, value in plan.counters().items():
                            setattr(conversation, name, value)
                    plans.append((conversation, plan))
                Conversation.objects.bulk_create(new, batch_size=BATCH)
                created["conversations"] += len(new)
                touched = self._insert_missing(account, plans, created)
                fresh = {c.pk for c in new}
                self._recount([pk for pk in touched if pk not in fresh])

    # --- rows ---------------------------------------------------------------------------------------------------------
    def _contacts(
        self, organization: Organization, account: PlatformAccount, wanted: dict[str, str], created: dict[str, int]
    ) -> dict[str, Contact]:
        """The account's contacts with these external ids (id -> name), created when missing."""
        have = {
            c.external_id: c for c in Contact.objects.filter(platform_account=account, external_id__in=list(wanted))
        }
        missing = [
            Contact(
                organization=organization,
                platform_account=account,
                platform=account.platform,
                external_id=external_id,
                phone_number=external_id if account.platform == Platform.WHATSAPP else "",
                name=name,
                metadata={"seed_bulk": True},
            )
            for external_id, name in wanted.items()
            if external_id not in have
        ]
        Contact.objects.bulk_create(missing, batch_size=BATCH)
        created["contacts"] += len(missing)
        if missing and any(c.pk is None for c in missing):  # a backend that returns no ids on bulk insert
            return {
                c.external_id: c for c in Contact.objects.filter(platform_account=account, external_id__in=list(wanted))
            }
        return {**have, **{c.external_id: c for c in missing}}

    def _message(
        self,
        organization: Organization,
        conversation: Conversation,
        account: PlatformAccount,
        agent: User | None,
        *,
        pid: str,
        at: datetime,
        text: str,
        inbound: bool,
        unread: bool,
        newest_outbound: bool,
    ) -> Message:
        return Message(
            organization=organization,
            conversation=conversation,
            platform_account=account,
            direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
            kind=MessageKind.TEXT,
            text=text,
            platform_message_id=pid,
            status=MessageStatus.RECEIVED
            if inbound
            else (MessageStatus.DELIVERED if newest_outbound else MessageStatus.READ),
            is_read=not unread,
            read_at=None if unread else at,
            sent_by=None if inbound else agent,
            timestamp=at,
        )

    def _insert_missing(
        self, account: PlatformAccount, plans: list[tuple[Conversation, Planned]], created: dict[str, int]
    ) -> set[int]:
        """Insert the planned messages not stored yet; returns the ids of the conversations that got some."""
        pids = [m.platform_message_id for _, plan in plans for m in plan.messages]
        stored: set[str | None] = set()
        for start in range(0, len(pids), BATCH):
            stored.update(
                Message.objects.filter(
                    platform_account=account, platform_message_id__in=pids[start : start + BATCH]
                ).values_list("platform_message_id", flat=True)
            )
        missing: list[Message] = []
        touched: set[int] = set()
        for conversation, plan in plans:
            for message in plan.messages:
                if message.platform_message_id in stored:
                    continue
                message.conversation = conversation  # it has its primary key now
                missing.append(message)
                touched.add(conversation.pk)
        for start in range(0, len(missing), BATCH):
            Message.objects.bulk_create(missing[start : start + BATCH])
        created["messages"] += len(missing)
        return touched

    def _recount(self, conversation_ids: list[int]) -> None:
        """Counters of existing conversations that got messages, from what is stored."""
        for conversation in Conversation.objects.filter(pk__in=conversation_ids):
            messages = Message.objects.filter(conversation=conversation)
            newest = messages.order_by("-timestamp", "-id").first()
            stats = messages.aggregate(
                last_inbound_at=Max("timestamp", filter=Q(direction=Direction.INBOUND)),
                unread_count=Count("id", filter=Q(direction=Direction.INBOUND, is_read=False)),
            )
            if newest is not None:
                conversation.last_message_at = newest.timestamp
                conversation.last_message_preview = message_preview(newest.kind, newest.text)
            conversation.last_inbound_at = stats["last_inbound_at"]
            conversation.unread_count = stats["unread_count"]
            conversation.save(
                update_fields=[
                    "last_message_at",
                    "last_message_preview",
                    "last_inbound_at",
                    "unread_count",
                    "updated_at",
                ]
            )
