"""Every Instagram fixture through the real endpoint, signed as Meta signs it."""

from __future__ import annotations

import json

import pytest

from switchboard.inbox.models import Message
from switchboard.instagram import parser
from switchboard.webhooks.testing import assert_stored_as_parsed, fixture_bytes, fixture_names

FIXTURES = fixture_names("instagram")


@pytest.mark.parametrize("name", FIXTURES)
def test_every_fixture_is_stored_as_parsed(poster, instagram_account, name):
    body = fixture_bytes("instagram", name)
    events = [event for _, event in parser.parse(json.loads(body))]
    delivery = poster.meta("instagram", body)
    assert_stored_as_parsed(delivery, instagram_account, events)


def test_unsend_deletes_the_earlier_message(poster, instagram_account):
    poster.meta("instagram", fixture_bytes("instagram", "messages__text.json"))
    original = Message.objects.get()
    deleted = json.loads(fixture_bytes("instagram", "messages__deleted.json"))
    deleted["entry"][0]["messaging"][0]["message"]["mid"] = original.platform_message_id
    deleted["entry"][0]["messaging"][0]["sender"]["id"] = original.conversation.contact.external_id
    delivery = poster.meta("instagram", json.dumps(deleted).encode())
    original.refresh_from_db()
    assert original.is_deleted and original.text == ""
    assert "message.updated" in delivery.event_names


def test_delivery_for_an_unconnected_account_is_acknowledged_and_ignored(poster):
    delivery = poster.meta("instagram", fixture_bytes("instagram", "messages__text.json"))
    assert delivery.response.status_code == 200
    assert delivery.log.status == "ignored" and Message.objects.count() == 0


def test_story_media_is_never_downloaded(poster, instagram_account, settings):
    settings.MEDIA_AUTO_DOWNLOAD = True
    from unittest import mock

    with mock.patch("switchboard.inbox.tasks.media.enqueue_attachment_downloads") as enqueue:
        poster.meta("instagram", fixture_bytes("instagram", "messages__story_mention.json"))
    attachment = Message.objects.get().attachments.get()
    assert attachment.status == "rejected" and "story" in attachment.error.lower()
    enqueue.assert_not_called()
