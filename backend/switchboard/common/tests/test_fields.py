import pytest
from django.db import connection

from switchboard.platforms.models import Platform


@pytest.mark.django_db
def test_credentials_are_encrypted_at_rest_and_read_back(make_org, make_account):
    account = make_account(
        make_org(),
        Platform.MESSENGER,
        credentials={"access_token": "EAAG-very-secret"},
        webhook_secret="app-secret-override",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials, webhook_secret FROM platforms_platformaccount WHERE id = %s", [account.pk])
        raw_credentials, raw_secret = cursor.fetchone()
    assert "EAAG-very-secret" not in raw_credentials and "app-secret-override" not in raw_secret
    account.refresh_from_db()
    assert account.credentials == {"access_token": "EAAG-very-secret"}
    assert account.webhook_secret == "app-secret-override"


@pytest.mark.django_db
def test_key_rotation_reads_old_tokens(make_org, make_account, settings):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    account = make_account(make_org(), credentials={"access_token": "t1"})
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    account.refresh_from_db()
    assert account.credentials == {"access_token": "t1"}
