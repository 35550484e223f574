# SyncRun moves here from platforms (issue 11 item 7). State only: the model keeps its table `platforms_syncrun`
# (Meta.db_table), which platforms' 0002_sync_run created and platforms' 0004_move_syncrun_to_inbox left in place, so
# the rows stay. Its content type moves too, keeping the permissions and admin history attached to it.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor, source='platforms', target='inbox'):
    """platforms.syncrun's content type becomes inbox.syncrun (a new database has none yet: nothing to do)."""
    ContentType = apps.get_model('contenttypes', 'ContentType')
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label=target, model='syncrun').exists():
        ContentType.objects.using(db).filter(app_label=source, model='syncrun').update(app_label=target)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, source='inbox', target='platforms')


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_invitation'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('inbox', '0003_message_client_key_conversation_updated'),
        ('platforms', '0004_move_syncrun_to_inbox'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='SyncRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('trigger', models.CharField(choices=[('schedule', 'Scheduled (Celery Beat)'), ('manual', 'Started from the API'), ('command', 'manage.py sync_platforms')], default='schedule', max_length=16)),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('succeeded', 'Succeeded'), ('partial', 'Finished with errors'), ('failed', 'Failed'), ('skipped', 'Skipped (another sync of the account was running)')], default='queued', max_length=16)),
                        ('since', models.DateTimeField(blank=True, help_text='History was read back to this time.', null=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('duration_ms', models.PositiveIntegerField(blank=True, null=True)),
                        ('conversations_synced', models.PositiveIntegerField(default=0)),
                        ('messages_seen', models.PositiveIntegerField(default=0)),
                        ('messages_new', models.PositiveIntegerField(default=0)),
                        ('errors', models.PositiveIntegerField(default=0)),
                        ('error', models.TextField(blank=True, help_text='The first error, in words.')),
                        ('details', models.JSONField(blank=True, default=dict, help_text='Account health and per-provider notes.')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sync_runs', to='platforms.platformaccount')),
                        ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.organization')),
                        ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'platforms_syncrun',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['account', '-created_at'], name='syncrun_account_recent')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back, elidable=True),
    ]
