from django.apps import AppConfig


class WhatsAppConfig(AppConfig):
    name = "switchboard.whatsapp"
    label = "whatsapp"

    def ready(self) -> None:
        from switchboard.platforms.registry import register
        from switchboard.whatsapp.adapter import WhatsAppBridgeAdapter, WhatsAppCloudAdapter, WhatsAppTwilioAdapter

        register(WhatsAppCloudAdapter())
        register(WhatsAppTwilioAdapter())
        register(WhatsAppBridgeAdapter())
