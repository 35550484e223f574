# Run by e2e/server.mjs after `seed_demo` (`manage.py shell -c`): the demo data the AI assistant specs
# (e2e/assistant.spec.ts) need that the API cannot make without an AI provider, which tests never reach:
# Priya Nair's conversation handed over to a person with a reason, her lead fields, one reply written by the
# assistant and one inbound message it skipped (with its reason).
from django.utils import timezone

from switchboard.accounts.models import Organization
from switchboard.inbox.models import Conversation, Message

organization = Organization.objects.get(slug="demo-agency")
conversation = Conversation.objects.select_related("contact").get(
    organization=organization, contact__name="Priya Nair"
)
contact = conversation.contact
contact.attributes = {"purpose": "rent", "bedrooms": 2, "budget_max": 2500, "area": "Koramangala"}
contact.save(update_fields=["attributes", "updated_at"])

now = timezone.now()
skipped = conversation.messages.filter(direction="inbound").order_by("-timestamp").first()
if skipped is not None:
    skipped.llm_skip_reason = "not_trusted"
    skipped.save(update_fields=["llm_skip_reason", "updated_at"])
Message.objects.create(
    organization=organization,
    conversation=conversation,
    platform_account=conversation.platform_account,
    direction="outbound",
    kind="text",
    text="Happy to help! I found two 2-bedroom flats in Koramangala within your budget.",
    status="delivered",
    sent_by_assistant=True,
    platform_message_id="wamid.e2e.assistant.1",
    timestamp=now,
)
conversation.needs_human = True
conversation.needs_human_reason = "The customer wants to negotiate the rent: a person should decide."
conversation.last_message_at = now
conversation.last_message_preview = "Happy to help! I found two 2-bedroom flats in Koramangala within your budget."
conversation.save(
    update_fields=["needs_human", "needs_human_reason", "last_message_at", "last_message_preview", "updated_at"]
)
print(f"[e2e] assistant seed: conversation {conversation.pk} ({contact.name}) needs a human")
