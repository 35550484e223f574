from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "switchboard.inbox"
    label = "inbox"
