"""The push door's published contract: its answers as models, and its OpenAPI document.

The door reads the raw body itself (rejected input is stored as received), so FastAPI does
not see the event models as a parameter; `push_openapi` puts them into the document as the
request body: the same `Event` model every door validates with (one event or an array).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, TypeAdapter

from adapter.events import Event

__all__ = [
    "PUSH_RESPONSES",
    "PushError",
    "PushResult",
    "PushResults",
    "install_push_openapi",
]

_REF = "#/components/schemas/{model}"


class PushResult(BaseModel):
    """The door's answer for one event of the request (no personal data in it)."""

    result: Literal["accepted", "duplicate", "rejected"]
    event_id: str | None = None
    field: str | None = None
    message: str | None = None


class PushResults(BaseModel):
    """One result per event of the request, in the request's order."""

    results: list[PushResult]


class PushError(BaseModel):
    """Why the request as a whole was refused (nothing of it was stored)."""

    error: str


PUSH_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "model": PushResults,
        "description": "At least one event was accepted or was a duplicate; one result per event.",
    },
    400: {
        "model": PushResults,
        "description": "The body is not JSON; stored as one rejected input, its result given.",
    },
    401: {"model": PushError, "description": "No bearer token, or not a tenant's push token."},
    413: {"model": PushError, "description": "The body is larger than `http.max_body_bytes`."},
    422: {
        "model": PushResults,
        "description": "Every event of the request was rejected; one result per event.",
    },
}


def _request_body() -> tuple[dict[str, Any], dict[str, Any]]:
    """The request body's schema and the component schemas it refers to."""
    schema = TypeAdapter(Event | list[Event]).json_schema(ref_template=_REF)
    components = schema.pop("$defs", {})
    body = {
        "required": True,
        "description": "One event, or an array of events (events.md).",
        "content": {"application/json": {"schema": schema}},
    }
    return body, components


def install_push_openapi(app: FastAPI, *, path: str, version: str) -> None:
    """Serve `app`'s OpenAPI with the event models as the request body of `POST {path}`."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=version,
            description=app.description,
            routes=app.routes,
        )
        body, components = _request_body()
        document["paths"][path]["post"]["requestBody"] = body
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(components)
        document["components"]["securitySchemes"] = {
            "pushToken": {"type": "http", "scheme": "bearer", "description": "the tenant's token"}
        }
        document["paths"][path]["post"]["security"] = [{"pushToken": []}]
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
