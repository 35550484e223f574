from django.apps import AppConfig


class PlatformsConfig(AppConfig):
    name = "switchboard.platforms"
    label = "platforms"
