from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The sandbox provider: an account of any platform that sends without a vendor (docs/platforms.md)."""

    name = "switchboard.sandbox"
    label = "sandbox"

    def ready(self) -> None:
        from switchboard.platforms.models import Platform  # noqa: PLC0415  ready(): needs the loaded app registry
        from switchboard.platforms.registry import register  # noqa: PLC0415  ready(): needs the loaded app registry
        from switchboard.sandbox.adapter import SandboxAdapter  # noqa: PLC0415  ready(): needs the loaded app registry

        # Sends only: sandbox accounts' webhooks are served by the sandbox-<platform> endpoints the platform apps
        # register (the platform's own formats, routed to sandbox accounts only).
        for platform in Platform.values:
            register(SandboxAdapter(platform))
