from django.apps import AppConfig


class MessengerConfig(AppConfig):
    name = "switchboard.messenger"
    label = "messenger"

    def ready(self) -> None:
        from switchboard.messenger.adapter import MessengerAdapter  # noqa: PLC0415  ready(): needs the loaded app registry
        from switchboard.platforms.models import Provider  # noqa: PLC0415  ready(): needs the loaded app registry
        from switchboard.platforms.registry import register, register_endpoint  # noqa: PLC0415  ready(): needs the loaded app registry

        register_endpoint("messenger", register(MessengerAdapter()))
        # Inbound only: sandbox accounts' sends go through the sandbox app's adapter.
        register_endpoint("sandbox-messenger", MessengerAdapter(provider=Provider.SANDBOX))
