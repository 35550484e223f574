# SyncRun moves to the inbox, which writes it (issue 11 item 7). State only: the table `platforms_syncrun` and its
# rows stay as they are, and inbox's 0004_syncrun (which runs after this one) takes the model over with the same
# table. No database operation, so nothing is dropped on any database.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('platforms', '0003_provider_sandbox'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='SyncRun',
                ),
            ],
            database_operations=[],
        ),
    ]
