"""The OpenAPI schema says which errors each operation answers, decided here from the view instead of by hand on
every view (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] and SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]).

An operation gets, unless its view already declares the status:

| status | when the server answers it | body |
|---|---|---|
| 400 | it takes a request body or query parameters (validation, `parse_error`, a bad cursor) | ValidationError |
| 401 | its view authenticates (a missing, wrong or expired token) | Error |
| 403 | a permission beyond "authenticated": a role, or membership of an organization | Error |
| 404 | it has path parameters, or it acts for an organization (`X-Organization` may name none of yours) | Error |
| 413 | it takes a request body (DATA_UPLOAD_MAX_MEMORY_SIZE) | Error |
| 415 | it takes a request body (another Content-Type than those listed) | Error |
| 429 | its view has throttles | Error |

409 depends on state only the view knows: views declare it themselves. Filters and pagination are declared for a
viewset's `list` only, which is all they apply to. Views acting for an organization also get
the `X-Organization` header parameter, and integer path parameters get the id range (`common.ids`).

The `Error` and `ValidationError` components are written by the hook from the shape `common.errors` produces, so
they say what the exception handler does whichever serializer a view named.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from rest_framework import permissions

from switchboard.common.ids import MAX_ID, MIN_ID

ERROR_REF = {"$ref": "#/components/schemas/Error"}
VALIDATION_ERROR_REF = {"$ref": "#/components/schemas/ValidationError"}

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error answer: `detail` for people, `code` for programs (some codes add keys).",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
    },
    "required": ["detail", "code"],
}
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "Every 400: `errors` maps each field (nested ones by path, e.g. `template.components.0.type`) or "
        "`non_field_errors` to its messages."
    ),
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Messages per field.",
        },
    },
    "required": ["detail", "code", "errors"],
}

ORGANIZATION_HEADER = {
    "in": "header",
    "name": "X-Organization",
    "schema": {"type": "string"},
    "description": "Id or slug of the organization to act for; default: your oldest membership. 404 when it "
    "names none of yours.",
}

_TRIVIAL_PERMISSIONS = (permissions.AllowAny, permissions.IsAuthenticated, permissions.IsAuthenticatedOrReadOnly)
_DESCRIPTIONS = {
    "400": "Invalid input: `errors` names the fields (malformed bodies too, with `code` `parse_error`).",
    "401": "Missing, invalid or expired credentials.",
    "403": "Your role, or your membership, does not allow this.",
    "404": "Not found — also another organization's object, or an `X-Organization` that names none of yours.",
    "413": "The request body is too large.",
    "415": "Unsupported Content-Type for the request body.",
    "429": "Too many requests; see the Retry-After header.",
}


def acts_for_organization(view: Any) -> bool:
    """Tenant-scoped views (accounts.tenancy.TenantScopedViewMixin) resolve the organization of every request;
    common sits below accounts, so it recognises them by the hook the mixin requires."""
    return callable(getattr(view, "scoped_queryset", None))


class AutoSchema(openapi.AutoSchema):
    # A viewset filters and paginates its `list` only (the project's rule: query-string filters narrow lists, and
    # actions answer whole lists, e.g. a listing's contacts); drf-spectacular would give every action that answers
    # many objects the list's filter parameters and a paginated body.
    def _acts_as_list(self) -> bool:
        action = getattr(self.view, "action", None)
        return action is None or action == "list"

    def get_filter_backends(self) -> list[Any]:
        return super().get_filter_backends() if self._acts_as_list() else []

    def _get_paginator(self) -> Any:
        return super()._get_paginator() if self._acts_as_list() else None

    def get_operation(self, path: str, path_regex: str, path_prefix: str, method: str, registry: Any) -> Any:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        parameters = operation.setdefault("parameters", [])
        if acts_for_organization(self.view) and not any(
            p.get("in") == "header" and p.get("name", "").lower() == "x-organization" for p in parameters
        ):
            parameters.append(dict(ORGANIZATION_HEADER))
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if parameter.get("in") == "path" and schema.get("type") == "integer":
                schema.setdefault("minimum", MIN_ID)
                schema.setdefault("maximum", MAX_ID)
                schema.setdefault("format", "int64")
        if not parameters:
            del operation["parameters"]
        responses = operation["responses"]
        for code in self.error_statuses(operation):
            if code not in responses:
                responses[code] = {
                    "description": _DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": VALIDATION_ERROR_REF if code == "400" else ERROR_REF}},
                }
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def error_statuses(self, operation: dict[str, Any]) -> list[str]:
        view = self.view
        has_body = "requestBody" in operation
        parameters = operation.get("parameters", [])
        codes = []
        if has_body or any(p.get("in") == "query" for p in parameters):
            codes.append("400")
        if view.get_authenticators():
            codes.append("401")
        if acts_for_organization(view) or any(
            not isinstance(permission, _TRIVIAL_PERMISSIONS) for permission in view.get_permissions()
        ):
            codes.append("403")
        if acts_for_organization(view) or any(p.get("in") == "path" for p in parameters):
            codes.append("404")
        if has_body:
            codes += ["413", "415"]
        if view.get_throttles():
            codes.append("429")
        return codes


def postprocess_error_components(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Write the error components from the handler's shape (see the module docstring)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas["ValidationError"] = VALIDATION_ERROR_SCHEMA
    return result
