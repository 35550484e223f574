from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "switchboard.assistant"
    label = "assistant"
    verbose_name = "AI assistant"

    def ready(self) -> None:
        # The inbox never imports the assistant: it reaches it through its hook registry (switchboard/inbox/hooks.py).
        from switchboard.assistant import subscribers  # noqa: PLC0415  models are not loaded before ready()

        subscribers.subscribe()
