"""The assistant REST API: /api/assistant/ (settings, FAQ, stats) and the assistant's conversation actions under
/api/messages/conversations/{id}/ (see urls.py)."""
