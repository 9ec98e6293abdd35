"""drf-spectacular hook: document the error responses every operation can give."""

from __future__ import annotations

from typing import Any

ERROR_RESPONSES = {
    "400": "The request is not valid; `fields` says which input and why.",
    "401": "Not signed in: send a session cookie or `Authorization: Token <token>`.",
    "403": "Signed in, but your role does not allow this.",
    "404": "No such object.",
    "429": "Too many attempts; wait and try again.",
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = {
        "type": "object",
        "properties": {
            "detail": {"type": "string"},
            "code": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        },
        "required": ["detail", "code"],
    }
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_RESPONSES.items():
                responses.setdefault(status, {"description": description, "content": ref})
    return result
