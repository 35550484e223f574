"""Application errors: what a service refuses, said without HTTP.

Services raise these (and Django's own `ValidationError` for bad input, keyed by field, and a model's
`DoesNotExist` for a row that is missing or another tenant's — `accounts.tenancy.ensure_owned`); they never import
DRF. The one exception handler (`common/errors.py`) turns each into its status code and the API's JSON error body
`{"detail", "code", ...extra}`:

    ApplicationError  400  a refusal with no more specific class
    NotFound          404  (also every ObjectDoesNotExist) — missing and other-tenant rows are the same not-found
    Conflict          409  not possible in the current state: a duplicate, a race lost, a send refused now
                           (inbox.services.outbound.SendRefused)

`extra` keyword arguments go into the body beside `detail` and `code` (`templates_required` on a refused send).
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    status_code = 400
    default_detail = "The request cannot be carried out."
    default_code = "invalid"

    def __init__(self, detail: str | None = None, *, code: str | None = None, **extra: Any) -> None:
        self.detail = str(detail) if detail is not None else self.default_detail
        self.code = code or self.default_code
        self.extra = extra
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        """The JSON error body of the API."""
        return {"detail": self.detail, "code": self.code, **self.extra}


class NotFound(ApplicationError):
    status_code = 404
    default_detail = "Not found."
    default_code = "not_found"


class Conflict(ApplicationError):
    status_code = 409
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"
