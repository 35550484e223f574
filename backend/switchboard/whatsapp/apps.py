from django.apps import AppConfig


class WhatsAppConfig(AppConfig):
    name = "switchboard.whatsapp"
    label = "whatsapp"
