from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "switchboard.common"
    label = "common"

    def ready(self) -> None:
        from switchboard.common import checks  # noqa: F401, PLC0415  registers the deploy checks; ready(): the app registry is complete
