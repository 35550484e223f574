from django.apps import AppConfig


class InstagramConfig(AppConfig):
    name = "switchboard.instagram"
    label = "instagram"

    def ready(self) -> None:
        from switchboard.instagram.adapter import InstagramAdapter
        from switchboard.platforms.registry import register

        register(InstagramAdapter())
