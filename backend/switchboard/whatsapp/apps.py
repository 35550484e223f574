from django.apps import AppConfig


class WhatsAppConfig(AppConfig):
    name = "switchboard.whatsapp"
    label = "whatsapp"

    def ready(self) -> None:
        from switchboard.platforms.models import Provider  # noqa: PLC0415  ready(): needs the loaded app registry
        from switchboard.platforms.registry import register, register_endpoint  # noqa: PLC0415  ready(): needs the loaded app registry
        from switchboard.whatsapp.adapter import WhatsAppBridgeAdapter, WhatsAppCloudAdapter, WhatsAppTwilioAdapter  # noqa: PLC0415  ready(): needs the loaded app registry

        register_endpoint("whatsapp", register(WhatsAppCloudAdapter()))
        register_endpoint("twilio", register(WhatsAppTwilioAdapter()))
        register_endpoint("bridge", register(WhatsAppBridgeAdapter()))
        # Inbound only: sandbox accounts' sends go through the sandbox app's adapter.
        register_endpoint("sandbox-whatsapp", WhatsAppCloudAdapter(provider=Provider.SANDBOX))
