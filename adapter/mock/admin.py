"""Admin routes under `/_mock`: state dump, reset, drift, clients, feed input, faults.

Never part of a real system; left out of the OpenAPI document.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from adapter.mock.faults import ADMIN_PREFIX, FaultInjector, FaultRule
from adapter.mock.problems import FieldError, ProblemError
from adapter.mock.samspill_plans import COLLECTIONS, SamspillBook
from adapter.mock.state import ClientRegistrations, MockState, StoredDocument

__all__ = ["AckOnly", "ArchiveMock", "DocumentIn", "DocumentStored", "admin_router"]


class ArchiveMock(Protocol):
    """What the admin routes need of the Public 360 mock."""

    def reset(self) -> None:
        """Forget every case, document and person."""

    def dump(self) -> dict[str, Any]:
        """The `"p360"` value of the state dump."""

    def register_key(self, authkey: str, clientid: str | None) -> None:
        """Accept `authkey` (with `clientid`) from now on."""


class DocumentIn(BaseModel):
    """`POST /_mock/internal/documents`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._~-]+$")
    media_type: str = Field(min_length=3)
    content_base64: str


class AckOnly(BaseModel):
    """`PUT /_mock/samspill/ack-only`: whether creates answer 202 without an id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool


class DocumentStored(BaseModel):
    """Where the feed serves the document, and its sha256."""

    model_config = ConfigDict(frozen=True)

    url: str
    sha256: str


def _register_archive_keys(archive: ArchiveMock, regs: ClientRegistrations) -> None:
    for key in regs.p360:
        archive.register_key(key.authkey, key.clientid)


def admin_router(
    state: MockState, book: SamspillBook, archive: ArchiveMock, faults: FaultInjector
) -> APIRouter:
    """Every `/_mock` route over the given state objects."""
    router = APIRouter(prefix=ADMIN_PREFIX, include_in_schema=False)
    _register_archive_keys(archive, state.startup)

    @router.get("/state")
    async def dump_state() -> dict[str, Any]:
        """The whole state (plans as GET /plans/{id} shows them)."""
        return {
            "samspill": {
                "plans": [p.to_out().model_dump(mode="json") for p in book.plans.values()]
            },
            "p360": archive.dump(),
            "internal": {
                "events": state.feed.event_count(),
                "documents": len(state.feed.documents),
            },
            "requests": [r.model_dump(mode="json") for r in state.requests],
        }

    @router.post("/reset", status_code=204)
    async def reset() -> Response:
        """Empty state; start-up clients stay registered; faults cleared."""
        state.reset()
        book.reset()
        archive.reset()
        _register_archive_keys(archive, state.startup)
        faults.clear()
        return Response(status_code=204)

    @router.post("/clients", status_code=204)
    async def add_clients(regs: ClientRegistrations) -> Response:
        """Register OAuth clients, SIF keys and feed keys."""
        state.register(regs)
        _register_archive_keys(archive, regs)
        return Response(status_code=204)

    # --- drift ----------------------------------------------------------------------

    @router.patch("/samspill/plans/{planId}")
    async def drift_plan(planId: str, changes: Annotated[dict[str, Any], Body()]) -> Any:
        """Change plan fields behind the client's back."""
        return book.drift_patch_plan(planId, changes).model_dump(mode="json")

    @router.delete("/samspill/plans/{planId}", status_code=204)
    async def drift_delete_plan(planId: str) -> Response:
        """Remove a plan behind the client's back."""
        book.drift_plan(planId)
        del book.plans[planId]
        return Response(status_code=204)

    def _collection(name: str) -> str:
        if name not in COLLECTIONS:
            raise ProblemError(404, "collection-not-found", "No such collection.")
        return name

    @router.patch("/samspill/plans/{planId}/{collection}/{itemId}")
    async def drift_item(
        planId: str, collection: str, itemId: str, changes: Annotated[dict[str, Any], Body()]
    ) -> Any:
        """Change an item behind the client's back (closed plans too)."""
        plan = book.drift_plan(planId)
        return book.patch_item(plan, _collection(collection), itemId, changes).model_dump(
            mode="json"
        )

    @router.delete("/samspill/plans/{planId}/{collection}/{itemId}", status_code=204)
    async def drift_delete_item(planId: str, collection: str, itemId: str) -> Response:
        """Remove an item behind the client's back."""
        book.delete_item(book.drift_plan(planId), _collection(collection), itemId)
        return Response(status_code=204)

    @router.put("/samspill/ack-only")
    async def ack_only(mode: AckOnly) -> AckOnly:
        """Creates (plan or item) answer `202 {"status": "accepted"}` with no id while on;
        the item is created as usual (samspill.md, "Create without an id")."""
        book.ack_only = mode.enabled
        return mode

    # --- internal system ------------------------------------------------------------

    @router.post("/internal/events")
    async def add_events(events: Annotated[list[dict[str, Any]], Body()]) -> dict[str, int]:
        """Append events (stored as given: the adapter validates them) to their tenant's feed."""
        bad = [
            FieldError(field=f"{i}.tenant", message="every event needs a string tenant")
            for i, e in enumerate(events)
            if not isinstance(e.get("tenant"), str)
        ]
        if bad:
            raise ProblemError(422, "validation-error", "Events need a tenant.", errors=bad)
        for event in events:
            state.feed.append(event)
        return {"appended": len(events), "events": state.feed.event_count()}

    @router.post("/internal/documents", response_model=DocumentStored)
    async def add_document(body: DocumentIn, request: Request) -> DocumentStored:
        """Store a document for the feed; answers its absolute URL and sha256."""
        try:
            content = base64.b64decode(body.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ProblemError(
                422,
                "validation-error",
                "content_base64 does not decode.",
                errors=[FieldError(field="content_base64", message="not base64")],
            ) from None
        digest = hashlib.sha256(content).hexdigest()
        state.feed.documents[body.id] = StoredDocument(body.media_type, content, digest)
        url = f"{str(request.base_url).rstrip('/')}/internal/v1/documents/{body.id}"
        return DocumentStored(url=url, sha256=digest)

    # --- faults ---------------------------------------------------------------------

    @router.post("/faults")
    async def add_faults(
        rules: Annotated[FaultRule | list[FaultRule], Body()],
    ) -> dict[str, Any]:
        """Install one rule or a list, after those installed."""
        faults.install(rules if isinstance(rules, list) else [rules])
        return {"rules": [r.dump() for r in faults.rules]}

    @router.get("/faults")
    async def list_faults() -> dict[str, Any]:
        """The installed rules with how often each matched and fired."""
        return {"rules": [r.dump() for r in faults.rules]}

    @router.delete("/faults", status_code=204)
    async def clear_faults() -> Response:
        """Remove every rule."""
        faults.clear()
        return Response(status_code=204)

    return router
