from django.apps import AppConfig


class MessengerConfig(AppConfig):
    name = "switchboard.messenger"
    label = "messenger"

    def ready(self) -> None:
        from switchboard.messenger.adapter import MessengerAdapter
        from switchboard.platforms.registry import register

        register(MessengerAdapter())
