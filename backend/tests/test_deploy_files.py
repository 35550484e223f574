"""The production files, checked without a Docker engine: both nginx profiles pass `nginx -t` (Debian's nginx, with a
certificate made here), docker-compose.yml runs the Makefile's commands and mounts files that exist, and the local
profile's .env generator writes what compose needs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import IN_CI

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
MAKEFILE = (REPO / "Makefile").read_text()


def _nginx() -> str:
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if path is None:
        if IN_CI:
            pytest.fail("CI=true but Debian's nginx is not installed (.ci/run installs it)")
        pytest.skip("needs Debian's nginx: apt-get install -y nginx-light")
    return path


def _config_copy(tmp_path: Path) -> Path:
    """nginx/ as the containers see it, rewritten to this machine's paths (the upstream host `web` resolves only
    inside compose's network)."""
    folder = tmp_path / "switchboard"
    shutil.copytree(REPO / "nginx", folder, ignore=shutil.ignore_patterns("certs"))
    certs = tmp_path / "certs"
    certs.mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(certs / "privkey.pem"), "-out", str(certs / "fullchain.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    for conf in folder.glob("*.conf"):
        text = conf.read_text()
        text = text.replace("/etc/nginx/switchboard/", f"{folder}/").replace("/etc/nginx/certs/", f"{certs}/")
        text = text.replace("server web:8000;", "server 127.0.0.1:8000;")
        text = text.replace("/tmp/switchboard-nginx.pid", str(tmp_path / "nginx.pid"))
        conf.write_text(text)
    return folder


@pytest.mark.parametrize("profile", ["nginx.conf", "local.conf"])
def test_nginx_profiles_pass_nginx_t(tmp_path, profile):
    folder = _config_copy(tmp_path)
    result = subprocess.run(
        [_nginx(), "-t", "-c", str(folder / profile), "-g", f"pid {tmp_path}/t.pid;"]
        if profile == "nginx.conf"
        else [_nginx(), "-t", "-c", str(folder / profile)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_both_profiles_serve_the_same_routes():
    for profile, port in (("nginx.conf", "443 ssl"), ("local.conf", "8080")):
        text = (REPO / "nginx" / profile).read_text()
        assert "include /etc/nginx/switchboard/http.conf;" in text
        assert "include /etc/nginx/switchboard/routes.conf;" in text
        assert f"listen {port} default_server;" in text
    routes = (REPO / "nginx" / "routes.conf").read_text()
    for location in ("location /api/", "location /ws/", "location /static/", "location /protected-media/"):
        assert location in routes


def test_compose_profiles_each_start_one_nginx():
    services = COMPOSE["services"]
    assert services["nginx"]["profiles"] == ["tls"] and services["nginx-local"]["profiles"] == ["local"]
    assert services["nginx-local"]["ports"] == ["8080:8080"]
    assert services["nginx"]["command"][-1] == "/etc/nginx/switchboard/nginx.conf"
    assert services["nginx-local"]["command"][-1] == "/etc/nginx/switchboard/local.conf"
    # The local profile needs no certificates.
    assert not any("certs" in volume for volume in services["nginx-local"]["volumes"])
    for name in ("nginx", "nginx-local"):
        for volume in services[name]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./") and "frontend/dist" not in source and "certs" not in source:
                assert (REPO / source).exists(), f"{name} mounts {source}, which does not exist"


def _make_recipe(target: str) -> str:
    match = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", MAKEFILE, re.MULTILINE)
    assert match, target
    return match.group(1)


def test_compose_runs_the_makefiles_commands():
    services = COMPOSE["services"]
    web = " ".join(services["web"]["command"])
    assert "python manage.py migrate --noinput" in web and "collectstatic --noinput" in web
    assert "seed_demo" not in web  # production seeds nothing
    assert re.search(r"daphne -b 0\.0\.0\.0 -p 8000 --proxy-headers config\.asgi:application", web)
    assert "daphne" in _make_recipe("run") and "config.asgi:application" in _make_recipe("run")
    worker = " ".join(services["worker"]["command"])
    beat = " ".join(services["beat"]["command"])
    assert "celery -A config worker --loglevel=INFO --concurrency=" in worker
    assert "celery -A config worker --loglevel=INFO --concurrency=" in _make_recipe("worker")
    assert beat == "celery -A config beat --loglevel=INFO"
    assert "celery -A config beat --loglevel=INFO" in _make_recipe("beat")


def test_compose_env_writes_a_local_profile_env(tmp_path):
    target = tmp_path / ".env"
    subprocess.run([sys.executable, str(REPO / "tools" / "compose_env.py"), str(target)], check=True)
    values = dict(line.split("=", 1) for line in target.read_text().splitlines() if line and not line.startswith("#"))
    assert values["COMPOSE_PROFILES"] == "local"
    assert values["SECURE_SSL_REDIRECT"] == "false" and values["ALLOWED_HOSTS"] == "localhost,127.0.0.1"
    assert len(values["SECRET_KEY"]) >= 50 and "$" not in values["SECRET_KEY"]
    from cryptography.fernet import Fernet

    Fernet(values["FIELD_ENCRYPTION_KEY"].encode())  # raises when it is not a Fernet key
    # Every variable compose requires (`${NAME:?…}`) is set.
    required = set(re.findall(r"\$\{(\w+):\?", (REPO / "docker-compose.yml").read_text()))
    assert required <= set(values), required - set(values)
    # Never overwritten.
    before = target.read_text()
    subprocess.run([sys.executable, str(REPO / "tools" / "compose_env.py"), str(target)], check=True)
    assert target.read_text() == before
