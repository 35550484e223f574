"""Inbox services — the only code that writes inbox rows and sends inbox events.

* `ingest`: `MessageService`, the one front door for everything inbound (webhooks and syncs).
* `conversations`: what agents do to conversations and messages (archive, mark read, AI toggle).
"""
