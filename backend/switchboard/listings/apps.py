from django.apps import AppConfig


class ListingsConfig(AppConfig):
    name = "switchboard.listings"
    label = "listings"
