"""The Celery app. Embedded default: tasks run in-process (CELERY_TASK_ALWAYS_EAGER); with REDIS_URL a worker and
beat consume the Redis broker."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("switchboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
