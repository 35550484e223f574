"""How a webhook finds its tenant: by the platform's own ids in the payload, never by a tenant id it carries."""

from __future__ import annotations

from collections.abc import Iterable

from switchboard.platforms.models import PlatformAccount


def accounts_by_external_id(
    platform: str, provider: str, external_ids: Iterable[str], *, active_only: bool = True
) -> dict[str, PlatformAccount]:
    ids = {str(i) for i in external_ids if i}
    if not ids:
        return {}
    accounts = PlatformAccount.objects.filter(platform=platform, provider=provider, external_id__in=ids)
    if active_only:
        accounts = accounts.filter(is_active=True)
    return {account.external_id: account for account in accounts}
