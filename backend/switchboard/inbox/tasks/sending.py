"""Outbound tasks: sending a queued message, and read receipts. Tasks take ids and call services, which look the
message (and its organization) up again.

`send_message_task(message_id, attempt=1)` makes one attempt through `sending.message_deliver` and, on a transient
failure, schedules the next with backoff (`self.retry(countdown=…)`: 1 s, 2 s, 4 s … at most SEND_MAX_ATTEMPTS tries
in all). The attempt number travels in the task's arguments, so it survives redelivery. When an older message of
the same conversation is still queued or sending, the send waits its turn: the task queues itself again after the
countdown `message_deliver` gives (`inprocess.run_task_later`: a worker's countdown, an in-process timer without
one), with the same attempt number; the older message's end usually hands over to it sooner.

Under the embedded default (CELERY_TASK_ALWAYS_EAGER) there is no worker: the service hands the task to a thread of
`inbox/inprocess.py`, so the agent's request has already answered `queued`; Celery would re-run a retry at once,
ignoring the countdown. There, retries happen in the same thread with the same backoff but only while their waits add
up to at most SEND_EAGER_RETRY_MAX_WAIT_SECONDS (3 s: attempts at 0, 1 and 3 s); after that the message fails with the
vendor's code and the agent retries it from the API. One of the few in-process threads is never held for long, and a
send never loops.
"""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.conf import settings

from switchboard.inbox import inprocess
from switchboard.inbox.services import sending

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="inbox.send_message", ignore_result=True, max_retries=None)
def send_message_task(self, message_id: int, attempt: int = 1) -> str:
    eager = bool(self.request.is_eager)
    waited = 0.0
    while True:
        current = attempt

        def may_retry(countdown: float, current: int = current, waited: float = waited) -> bool:
            if current >= settings.SEND_MAX_ATTEMPTS:
                return False
            return not eager or waited + countdown <= settings.SEND_EAGER_RETRY_MAX_WAIT_SECONDS + 1e-6

        delivery = sending.message_deliver(message_id=message_id, attempt=current, may_retry=may_retry)
        if delivery.status == sending.DeliveryStatus.WAITING:
            # An older message of the conversation goes first: look again later (a worker's countdown, or an
            # in-process timer — never a thread held while waiting), with the same attempt number.
            inprocess.run_task_later(send_message_task, delivery.countdown, message_id, attempt=current)
            return str(delivery.status)
        if delivery.status != sending.DeliveryStatus.RETRY:
            return str(delivery.status)
        if not eager:
            # Counted by our own `attempt`, not Celery's retries (max_retries=None): the service already decided.
            raise self.retry(args=(message_id,), kwargs={"attempt": current + 1}, countdown=delivery.countdown)
        time.sleep(delivery.countdown)
        waited += delivery.countdown
        attempt = current + 1


@shared_task(name="inbox.send_read_receipt", ignore_result=True)
def send_read_receipt_task(message_id: int) -> str:
    try:
        return sending.read_receipt_send(message_id=message_id)
    except Exception:
        # A read receipt is a courtesy: whatever breaks here must never surface to the agent or loop.
        logger.exception("read receipt for message %s crashed", message_id)
        return "error"
