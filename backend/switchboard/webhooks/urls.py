from django.urls import path

from switchboard.webhooks.views import webhook_endpoint

# The bridge callback lives at /api/whatsapp/callback (switchboard/whatsapp/urls.py), where bridges expect it.
urlpatterns = [
    path("whatsapp/", webhook_endpoint("whatsapp"), name="webhook-whatsapp"),
    path("messenger/", webhook_endpoint("messenger"), name="webhook-messenger"),
    path("instagram/", webhook_endpoint("instagram"), name="webhook-instagram"),
    path("twilio/", webhook_endpoint("twilio"), name="webhook-twilio"),
]
