"""With DEBUG=false the settings refuse the embedded development secrets at load time (config/settings.py), except
for the test runner and the commands that build or inspect the project without secrets."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

BACKEND_DIR = Path(__file__).resolve().parents[3]
SETTINGS_FILE = BACKEND_DIR / "config" / "settings.py"
A_SECRET_KEY = "a-production-secret-key-with-more-than-fifty-random-characters-0123456789"
A_FERNET_KEY = "q3fQ2n6e9WmS0Jx3m0Qm3w1kq5v9lZ8cX2b7yT4rN1E="
DAPHNE_ARGV = ["/usr/local/bin/daphne", "-b", "0.0.0.0", "-p", "8000", "config.asgi:application"]


@pytest.fixture
def production_env(monkeypatch):
    """The environment of a production process: DEBUG=false, not under pytest, started as daphne."""
    monkeypatch.delenv("PYTEST_VERSION", raising=False)
    monkeypatch.setenv("DEBUG", "false")
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "argv", DAPHNE_ARGV)
    return monkeypatch


def load_settings() -> dict:
    """A fresh execution of config/settings.py (not runpy: it rewrites sys.argv[0], which the settings read)."""
    spec = importlib.util.spec_from_file_location("production_settings_under_test", SETTINGS_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


def test_refuses_the_development_secret_key_and_a_missing_encryption_key(production_env):
    with pytest.raises(ImproperlyConfigured) as error:
        load_settings()
    assert str(error.value) == (
        "Refusing to start with DEBUG=false: SECRET_KEY is empty or the embedded development key; "
        "FIELD_ENCRYPTION_KEY is unset. Set both (see .env.example), or export DEBUG=true for local development."
    )


def test_refuses_a_missing_encryption_key_alone(production_env):
    production_env.setenv("SECRET_KEY", A_SECRET_KEY)
    with pytest.raises(ImproperlyConfigured) as error:
        load_settings()
    assert str(error.value) == (
        "Refusing to start with DEBUG=false: FIELD_ENCRYPTION_KEY is unset. "
        "Set both (see .env.example), or export DEBUG=true for local development."
    )


@pytest.mark.parametrize("secret_key", ["", settings._DEV_SECRET])
def test_refuses_an_empty_or_the_development_secret_key_alone(production_env, secret_key):
    production_env.setenv("SECRET_KEY", secret_key)
    production_env.setenv("FIELD_ENCRYPTION_KEY", A_FERNET_KEY)
    with pytest.raises(ImproperlyConfigured, match=r"^Refusing to start with DEBUG=false: SECRET_KEY is empty or the"):
        load_settings()


@pytest.mark.parametrize(
    "argv",
    [
        DAPHNE_ARGV,
        ["/usr/local/bin/celery", "-A", "config", "worker"],
        ["manage.py", "migrate", "--noinput"],
        ["manage.py", "shell"],
        ["/usr/local/bin/uvicorn", "check"],  # the exemption is for manage.py's commands only
    ],
)
def test_every_server_worker_and_other_command_is_refused(production_env, argv):
    production_env.setattr(sys, "argv", argv)
    with pytest.raises(ImproperlyConfigured):
        load_settings()


def test_starts_with_both_secrets_set(production_env):
    production_env.setenv("SECRET_KEY", A_SECRET_KEY)
    production_env.setenv("FIELD_ENCRYPTION_KEY", A_FERNET_KEY)
    loaded = load_settings()
    assert loaded["SECRET_KEY"] == A_SECRET_KEY
    assert loaded["FIELD_ENCRYPTION_KEYS"] == [A_FERNET_KEY]


def test_debug_true_keeps_the_embedded_defaults(production_env):
    production_env.setenv("DEBUG", "true")
    loaded = load_settings()
    assert loaded["SECRET_KEY"] == loaded["_DEV_SECRET"]
    assert len(loaded["FIELD_ENCRYPTION_KEYS"]) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["manage.py", "makemigrations", "--check", "--dry-run"],  # make lint
        ["manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null"],  # make lint
        ["manage.py", "check", "--deploy"],  # reports sb.E001 / sb.E002 itself
        ["manage.py", "collectstatic", "--noinput"],  # backend/Dockerfile, at image build time
    ],
)
def test_commands_that_need_no_secrets_still_run(production_env, argv):
    production_env.setattr(sys, "argv", argv)
    assert load_settings()["DEBUG"] is False


def test_a_real_process_exits_with_the_message():
    """End to end: a management command started like production fails at once, naming both settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST") and k not in ("SECRET_KEY", "DEBUG")}
    env.pop("FIELD_ENCRYPTION_KEY", None)
    env["DEBUG"] = "false"
    result = subprocess.run(
        [sys.executable, "manage.py", "showmigrations", "accounts"],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert (
        "django.core.exceptions.ImproperlyConfigured: Refusing to start with DEBUG=false: SECRET_KEY is empty or the "
        "embedded development key; FIELD_ENCRYPTION_KEY is unset." in result.stderr
    )
