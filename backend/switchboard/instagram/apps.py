from django.apps import AppConfig


class InstagramConfig(AppConfig):
    name = "switchboard.instagram"
    label = "instagram"
