"""The simulated platform's callbacks as Celery tasks (ids only; simulation.py looks everything up again). They are
scheduled with a countdown — a worker's, or a real timer in-process (inbox/inprocess.py)."""

from __future__ import annotations

from celery import shared_task

from switchboard.sandbox import simulation


@shared_task(name="sandbox.status", ignore_result=True)
def sandbox_status_task(
    account_id: int, message_id: int, platform_message_id: str, status: str, attempt: int = 1
) -> str:
    return simulation.status_deliver(
        account_id=account_id,
        message_id=message_id,
        platform_message_id=platform_message_id,
        status=status,
        attempt=attempt,
    )


@shared_task(name="sandbox.customer_reply", ignore_result=True)
def sandbox_reply_task(account_id: int, message_id: int) -> str:
    return simulation.customer_reply(account_id=account_id, message_id=message_id)
