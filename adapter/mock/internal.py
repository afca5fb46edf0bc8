"""The municipality's BTI case system under `/internal/v1`: the event feed and documents."""

# No `from __future__ import annotations`: FastAPI must resolve the dependency aliases
# defined inside the router factory at runtime.
import base64
import binascii
import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict

from adapter.mock.problems import FieldError, ProblemError, problem_responses
from adapter.mock.state import FeedKey, MockState

__all__ = ["INTERNAL_PREFIX", "FeedPage", "decode_cursor", "encode_cursor", "internal_router"]

INTERNAL_PREFIX = "/internal/v1"
_CURSOR_PREFIX = "pos:"

_bearer = HTTPBearer(auto_error=False, description="The tenant's feed api key.")


class FeedPage(BaseModel):
    """One page of the feed."""

    model_config = ConfigDict(frozen=True)

    events: list[dict[str, Any]]
    next_cursor: str
    has_more: bool


def encode_cursor(position: int) -> str:
    """An opaque cursor for `position` (events before it have been read)."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{position}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The position of a cursor made by `encode_cursor`; 400 for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not text.startswith(_CURSOR_PREFIX):
            raise ValueError(cursor)
        position = int(text.removeprefix(_CURSOR_PREFIX))
        if position < 0:
            raise ValueError(cursor)
    except (binascii.Error, UnicodeError, ValueError):
        raise ProblemError(
            400,
            "invalid-cursor",
            "The cursor was not issued by this feed.",
            errors=[FieldError(field="after", message="not a cursor of this feed")],
        ) from None
    return position


def internal_router(state: MockState) -> APIRouter:
    """`GET /events` per feed key's tenant and `GET /documents/{id}`, bearer api key auth."""
    router = APIRouter(prefix=INTERNAL_PREFIX, tags=["internal"])

    async def feed_key(  # async: a sync dependency would cost a worker-thread hop
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> FeedKey:
        if credentials is not None:
            for key, registered in state.feed_keys.items():
                if hmac.compare_digest(key.encode(), credentials.credentials.encode()):
                    return registered
        raise ProblemError(
            401,
            "invalid-api-key",
            "A valid feed api key is required.",
            headers={"WWW-Authenticate": "Bearer"},
        )

    Key = Annotated[FeedKey, Depends(feed_key)]

    @router.get("/events", response_model=FeedPage, responses=problem_responses(400, 401, 422))
    async def events(
        key: Key,
        after: Annotated[str | None, Query(description="Cursor of the last page.")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> FeedPage:
        """The tenant's events after the cursor, in order."""
        stream = state.feed.events.get(key.tenant, [])
        start = 0 if after is None else min(decode_cursor(after), len(stream))
        page = stream[start : start + limit]
        end = start + len(page)
        return FeedPage(events=page, next_cursor=encode_cursor(end), has_more=end < len(stream))

    @router.get(
        "/documents/{documentId}",
        response_class=Response,
        responses={
            200: {
                "description": "The document's bytes, with their sha256.",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            },
            **problem_responses(401, 404),
        },
    )
    async def document(documentId: str, _key: Key) -> Response:
        """The stored bytes, `Content-Type` as stored, `X-Content-SHA256` and ETag the sha256."""
        doc = state.feed.documents.get(documentId)
        if doc is None:
            raise ProblemError(404, "document-not-found", "No such document.")
        return Response(
            content=doc.content,
            media_type=doc.media_type,
            headers={"X-Content-SHA256": doc.sha256, "ETag": f'"{doc.sha256}"'},
        )

    return router
