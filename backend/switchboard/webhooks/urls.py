from django.urls import path

from switchboard.webhooks.views import webhook_endpoint

# The bridge callback lives at /api/whatsapp/callback (switchboard/whatsapp/urls.py), where bridges expect it.
urlpatterns = [
    path("whatsapp/", webhook_endpoint("whatsapp"), name="webhook-whatsapp"),
    path("messenger/", webhook_endpoint("messenger"), name="webhook-messenger"),
    path("instagram/", webhook_endpoint("instagram"), name="webhook-instagram"),
    path("twilio/", webhook_endpoint("twilio"), name="webhook-twilio"),
    # Sandbox accounts (provider `sandbox`): the same Meta formats, routed only to sandbox accounts and checked only
    # against the account's own secret — a sandbox account can never receive a real page's or number's traffic.
    path("sandbox/whatsapp/", webhook_endpoint("sandbox-whatsapp"), name="webhook-sandbox-whatsapp"),
    path("sandbox/messenger/", webhook_endpoint("sandbox-messenger"), name="webhook-sandbox-messenger"),
    path("sandbox/instagram/", webhook_endpoint("sandbox-instagram"), name="webhook-sandbox-instagram"),
]
