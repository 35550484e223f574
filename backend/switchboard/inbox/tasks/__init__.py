"""Celery tasks of the inbox, one submodule per concern: media downloads, outbound sending, platform sync.

Celery's autodiscovery imports `<app>.tasks`; importing every submodule here is what registers their tasks with a
worker (services import them lazily, which a worker never does before it receives one).
"""

from switchboard.inbox.tasks import media, sending, sync  # noqa: F401
