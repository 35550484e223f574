"""Install the Celery Beat schedule of common/schedule.py (sync_all_platforms every SYNC_INTERVAL_MINUTES) into
django-celery-beat's tables. Editable afterwards in the admin (Periodic tasks); re-running never overwrites it."""

from django.db import migrations


def install(apps, schema_editor):
    from switchboard.common.schedule import install_schedule

    install_schedule(apps)


def uninstall(apps, schema_editor):
    from switchboard.common.schedule import schedule

    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[job.name for job in schedule()]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
