from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "guanxi.common"
    label = "common"
