from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from switchboard.webhooks.views import webhook_endpoint

_twilio_webhook = webhook_endpoint("twilio")


@csrf_exempt
def twilio_status_webhook(request: HttpRequest, account_id: int) -> HttpResponse:
    """One Twilio account's status callbacks: the StatusCallback every send of that account names. The twilio
    endpoint serves it (logged as `twilio`, replayed through it); the adapter's route reads the account id from the
    path again, so a callback without `From` / `To` still reaches its account, live and on replay."""
    return _twilio_webhook(request)


urlpatterns = [
    path("whatsapp/callback", webhook_endpoint("bridge"), name="webhook-bridge"),
    path("webhooks/twilio/<int:account_id>/status/", twilio_status_webhook, name="webhook-twilio-status"),
]
