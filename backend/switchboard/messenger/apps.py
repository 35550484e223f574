from django.apps import AppConfig


class MessengerConfig(AppConfig):
    name = "switchboard.messenger"
    label = "messenger"
