"""GET /api/platforms/accounts/{id}/sync-runs/ and POST /api/platforms/accounts/{id}/sync/ (inbox/api/sync_views.py,
under the platform account's URL); the SyncRun admin and the account list's "sync now" action (inbox/admin.py)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from conftest import client_for
from switchboard.accounts.models import Role
from switchboard.inbox.models import SyncRun, SyncStatus, SyncTrigger
from switchboard.inbox.services import sync
from tests.fakes import Reply

pytestmark = pytest.mark.usefixtures("celery_eager")

RUN_KEYS = {
    "id", "account", "trigger", "status", "requested_by", "since", "started_at", "finished_at", "duration_ms",
    "conversations_synced", "messages_seen", "messages_new", "errors", "error", "details", "created_at",
}  # fmt: skip


def runs_url(account) -> str:
    return f"/api/platforms/accounts/{account.pk}/sync-runs/"


def sync_url(account) -> str:
    return f"/api/platforms/accounts/{account.pk}/sync/"


@pytest.fixture
def cloud_ok(fake_vendor):
    fake_vendor.on("GET", r"/v21\.0/106540352242922", Reply(200, {"id": "106540352242922", "quality_rating": "GREEN"}))
    return fake_vendor


def test_an_owner_starts_a_sync_and_anyone_reads_the_runs(
    cloud_ok, owner, owner_client, agent_client, wa_cloud_account, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(sync_url(wa_cloud_account))
    assert response.status_code == 202, response.content
    assert set(response.json()) == RUN_KEYS
    assert response.json()["trigger"] == "manual" and response.json()["requested_by"] == owner.email
    run = SyncRun.objects.get()
    assert (run.status, run.requested_by, run.trigger) == (SyncStatus.SUCCEEDED, owner, SyncTrigger.MANUAL)

    listed = agent_client.get(runs_url(wa_cloud_account))
    assert listed.status_code == 200
    [item] = listed.json()
    assert item["id"] == run.pk and item["status"] == "succeeded" and item["details"]["health"]["ok"] is True


def test_runs_are_newest_first_and_limited(agent_client, wa_cloud_account):
    for _ in range(3):
        SyncRun.objects.create(organization=wa_cloud_account.organization, account=wa_cloud_account)
    ids = [r["id"] for r in agent_client.get(runs_url(wa_cloud_account), {"limit": 2}).json()]
    assert ids == sorted(ids, reverse=True) and len(ids) == 2
    assert agent_client.get(runs_url(wa_cloud_account), {"limit": 0}).status_code == 400


def test_agents_cannot_start_a_sync(agent_client, wa_cloud_account):
    assert agent_client.post(sync_url(wa_cloud_account)).status_code == 403
    assert not SyncRun.objects.exists()


def test_another_organizations_account_is_404(make_org, make_user, wa_cloud_account):
    outsider = client_for(make_user(make_org(), Role.OWNER))
    assert outsider.post(sync_url(wa_cloud_account)).status_code == 404
    assert outsider.get(runs_url(wa_cloud_account)).status_code == 404


def test_a_running_sync_is_409(owner_client, wa_cloud_account):
    cache.add(sync.lock_key(wa_cloud_account.pk), "busy", 60)
    response = owner_client.post(sync_url(wa_cloud_account))
    assert response.status_code == 409 and response.json()["code"] == "sync_running"
    wa_cloud_account.needs_reconnect = True
    wa_cloud_account.save()
    assert owner_client.post(sync_url(wa_cloud_account)).json()["code"] == "account_needs_reconnect"


def test_admin_lists_runs_and_syncs_from_the_account_list(
    cloud_ok, admin_client, wa_cloud_account, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/platforms/platformaccount/",
            {"action": "sync_now", "_selected_action": [wa_cloud_account.pk]},
            follow=True,
        )
    assert response.status_code == 200 and "sync queued" in response.content.decode()
    run = SyncRun.objects.get()
    assert run.status == SyncStatus.SUCCEEDED
    changelist = admin_client.get("/admin/inbox/syncrun/")
    assert changelist.status_code == 200 and wa_cloud_account.display_name in changelist.content.decode()
    assert admin_client.get(f"/admin/inbox/syncrun/{run.pk}/change/").status_code == 200
    assert admin_client.get("/admin/inbox/syncrun/add/").status_code == 403
