from django.apps import AppConfig


class MetaConfig(AppConfig):
    name = "switchboard.meta"
    label = "meta"
