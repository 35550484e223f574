from unittest import mock

import pytest

from switchboard.common import views


def test_healthz_needs_nothing_but_the_process(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_cache_and_channel_layer(client):
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert set(body["checks"]) == {"database", "cache", "channel_layer"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_readyz_names_what_failed_with_503(client):
    broken = mock.Mock(side_effect=ConnectionError("redis down"))
    with mock.patch.dict(views.READINESS_CHECKS, {"cache": broken}):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["cache"] and "redis down" in body["checks"]["cache"]["error"]
    assert body["checks"]["database"]["ok"] is True


def test_metrics_are_closed_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_bearer_token(client, settings):
    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert response.status_code == 200
    assert b"webhook_requests_total" in response.content


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_client_routes_get_the_built_app_shell(client, settings, tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Switchboard</title><div id=root></div>")
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log(1)")
    settings.FRONTEND_DIST = tmp_path

    shell = client.get("/inbox/some/client/route")
    asset = client.get("/assets/app-1a2b.js")

    assert shell.status_code == 200 and _body(shell) == (tmp_path / "index.html").read_bytes()
    assert shell["Cache-Control"] == "no-cache"
    assert asset.status_code == 200 and _body(asset) == b"console.log(1)"
    assert asset["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get("/assets/missing.js").status_code == 404


def test_without_a_build_the_start_page_says_how_to_build(client, settings, tmp_path):
    settings.FRONTEND_DIST = tmp_path / "no-build"
    response = client.get("/inbox")
    assert response.status_code == 200 and b"make build-frontend" in _body(response)


def test_unknown_api_paths_are_404_not_the_shell(client):
    assert client.get("/api/nope/").status_code == 404
