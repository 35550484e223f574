from django.apps import AppConfig


class ListingsConfig(AppConfig):
    name = "switchboard.listings"
    label = "listings"

    def ready(self) -> None:
        # The inbox never imports this app: it reaches it through its hook registry (switchboard/inbox/hooks.py).
        from switchboard.listings import subscribers  # noqa: PLC0415  ready(): needs the loaded app registry

        subscribers.subscribe()
