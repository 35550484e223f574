"""The one exception handler: application errors (common/exceptions.py), a model's DoesNotExist and Django's
ValidationError become the API's statuses and JSON error body — services never raise HTTP exceptions."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from switchboard.common.errors import exception_handler
from switchboard.common.exceptions import ApplicationError, Conflict, NotFound
from switchboard.inbox.models import Conversation
from switchboard.inbox.services.sending import SendRefused


def answer(exc: Exception) -> tuple[int, dict]:
    response = exception_handler(exc, {})
    assert response is not None
    return response.status_code, response.data


def test_application_errors_answer_their_status_and_body():
    assert answer(NotFound()) == (404, {"detail": "Not found.", "code": "not_found"})
    assert answer(Conflict("Taken.", code="duplicate_reference")) == (
        409,
        {"detail": "Taken.", "code": "duplicate_reference"},
    )
    assert answer(Conflict()) == (409, {"detail": "The request conflicts with the current state.", "code": "conflict"})
    assert answer(ApplicationError("No.", code="refused")) == (
        400,
        {"detail": "No.", "code": "refused", "errors": {"non_field_errors": ["No."]}},
    )


def test_a_refused_send_is_a_conflict_with_its_extra_keys_as_they_are():
    refused = SendRefused("Templates only now.", code="outside_customer_service_window", templates_required=True)
    assert isinstance(refused, Conflict)
    assert answer(refused) == (
        409,
        {"detail": "Templates only now.", "code": "outside_customer_service_window", "templates_required": True},
    )


def test_a_missing_or_other_tenants_row_is_the_plain_404():
    status, body = answer(Conversation.DoesNotExist("Conversation 7 is not in organization 2."))
    assert (status, body) == (404, {"detail": "Not found.", "code": "not_found"})  # nothing about the row or tenant


def test_djangos_validation_error_is_the_400_with_errors():
    status, body = answer(ValidationError({"file": ["The file is larger than 10 bytes."]}))
    assert status == 400
    assert body == {
        "detail": "Invalid input. file: The file is larger than 10 bytes.",
        "code": "invalid",
        "errors": {"file": ["The file is larger than 10 bytes."]},
    }
