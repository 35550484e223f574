from django.apps import AppConfig


class InstagramConfig(AppConfig):
    name = "switchboard.instagram"
    label = "instagram"

    def ready(self) -> None:
        from switchboard.instagram.adapter import InstagramAdapter  # noqa: PLC0415  ready(): needs the loaded app registry
        from switchboard.platforms.models import Provider  # noqa: PLC0415  ready(): needs the loaded app registry
        from switchboard.platforms.registry import register, register_endpoint  # noqa: PLC0415  ready(): needs the loaded app registry

        register_endpoint("instagram", register(InstagramAdapter()))
        # Inbound only: sandbox accounts' sends go through the sandbox app's adapter.
        register_endpoint("sandbox-instagram", InstagramAdapter(provider=Provider.SANDBOX))
