"""The Celery Beat schedule: installed by a data migration into django-celery-beat's tables, editable in the admin,
never overwritten, each job with an expiry; and the tasks it names are the ones a worker registers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from django_celery_beat.models import IntervalSchedule, PeriodicTask

from switchboard.common.schedule import install_schedule, schedule

BACKEND_DIR = Path(__file__).resolve().parents[3]


def test_the_migration_installed_sync_all_platforms(db, settings):
    task = PeriodicTask.objects.get(name="sync_all_platforms")
    assert task.task == "inbox.sync_all_platforms" and task.enabled
    assert (task.interval.every, task.interval.period) == (settings.SYNC_INTERVAL_MINUTES, IntervalSchedule.MINUTES)
    # A backlog never runs it twice: a copy older than (almost) one interval expires.
    assert task.expire_seconds == settings.SYNC_INTERVAL_MINUTES * 60 - 10
    assert "one sync task per account" in task.description


def test_installing_again_keeps_what_an_admin_changed(db):
    task = PeriodicTask.objects.get(name="sync_all_platforms")
    task.interval = IntervalSchedule.objects.create(every=15, period=IntervalSchedule.MINUTES)
    task.enabled = False
    task.save()
    assert install_schedule() == []
    task.refresh_from_db()
    assert (task.interval.every, task.enabled) == (15, False)
    task.delete()
    assert install_schedule() == ["sync_all_platforms"]


def test_the_schedule_is_editable_in_the_admin(admin_client):
    task = PeriodicTask.objects.get(name="sync_all_platforms")
    assert admin_client.get(f"/admin/django_celery_beat/periodictask/{task.pk}/change/").status_code == 200


def test_a_worker_registers_every_task_the_schedule_and_services_use():
    """What `celery -A config worker` sees through autodiscovery (a fresh process: nothing imported by tests)."""
    names = {job.task for job in schedule()} | {"inbox.send_message", "inbox.send_read_receipt", "inbox.sync_account"}
    code = (
        "import django; django.setup()\n"
        "from config.celery import app\n"
        "app.loader.import_default_modules()\n"
        "print(' '.join(sorted(app.tasks)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BACKEND_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PATH": "/usr/bin:/bin",
            # A production worker (DEBUG=false) refuses to start without its own secrets (config/settings.py).
            "SECRET_KEY": "worker-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "FIELD_ENCRYPTION_KEY": "q3fQ2n6e9WmS0Jx3m0Qm3w1kq5v9lZ8cX2b7yT4rN1E=",
        },
        check=True,
    )
    assert names <= set(result.stdout.split()), result.stdout
