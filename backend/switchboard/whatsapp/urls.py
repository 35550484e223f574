from django.urls import path

from switchboard.webhooks.views import webhook_endpoint

urlpatterns = [path("whatsapp/callback", webhook_endpoint("bridge"), name="webhook-bridge")]
