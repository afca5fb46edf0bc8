"""The adapter's own HTTP port: the push door, health, readiness and metrics.

Thin wiring only: the push door hands every event to the same receive step as the other
doors (`adapter.intake.receive`), so validation and storage are identical everywhere.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from adapter.errors import RejectedInput, StoreError
from adapter.events import RulesLookup
from adapter.events.parse import decode_json
from adapter.intake.inbox import Inbox
from adapter.intake.receive import prepare_object, store_prepared
from adapter.logs import get_logger
from adapter.metrics import Metrics
from adapter.settings import Settings
from adapter.store.records import RejectedRecord
from adapter.store.states import EventSource
from adapter.store.store import Store

__all__ = ["create_web_app", "tenant_for_token"]

log = get_logger(__name__)


def tenant_for_token(settings: Settings, header: str | None) -> str | None:
    """The tenant whose push token the `Authorization: Bearer` header carries, or None.

    Every configured token is compared in constant time, so timing tells nothing about
    which tenant (if any) was close.
    """
    if not header or not header.startswith("Bearer "):
        return None
    presented = header.removeprefix("Bearer ").strip().encode()
    found: str | None = None
    for key, tenant in sorted(settings.tenants.items()):
        if tenant.push_token is None:
            continue
        expected = tenant.push_token.get_secret_value().encode()
        if hmac.compare_digest(presented, expected) and found is None:
            found = key
    return found


async def _read_limited(request: Request, limit: int) -> bytes | None:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


def create_web_app(
    *,
    settings: Settings,
    store: Store,
    rules: RulesLookup,
    metrics: Metrics,
    refresh_metrics: Callable[[], Awaitable[None]] | None = None,
) -> FastAPI:
    """The FastAPI app of `stafett run`: `POST /events`, `/healthz`, `/readyz`, `/metrics`."""
    app = FastAPI(title="stafett", docs_url=None, redoc_url=None, openapi_url=None)
    inbox = Inbox(store.events)
    limit = settings.http.max_body_bytes

    @app.post("/events", status_code=202)
    async def push_events(request: Request) -> Response:
        tenant = tenant_for_token(settings, request.headers.get("authorization"))
        if tenant is None:
            return JSONResponse(
                {"error": "invalid_token"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return JSONResponse({"error": f"body over {limit} bytes"}, status_code=413)
        body = await _read_limited(request, limit)
        if body is None:
            return JSONResponse({"error": f"body over {limit} bytes"}, status_code=413)
        try:
            decoded = decode_json(body)
        except RejectedInput as exc:
            refused = await _store_unparseable(inbox, body, exc)
            return JSONResponse({"results": [refused]}, status_code=400)
        items = decoded if isinstance(decoded, list) else [decoded]
        checked = [
            prepare_object(item, rules=rules, source=EventSource.PUSH, only_tenant=tenant)
            for item in items
        ]  # stored in one transaction before the 202
        receipts = await store_prepared(
            checked, inbox=inbox, source=EventSource.PUSH, source_ref=None
        )
        results = [got.as_json() for got in receipts]
        log.info("push received", tenant=tenant, events=len(results))
        return JSONResponse({"results": results}, status_code=202)

    @app.get("/healthz")
    async def healthz() -> Mapping[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Response:
        try:
            await store.check()
        except StoreError as exc:
            return JSONResponse({"status": "not ready", "reason": str(exc)}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics")
    async def metrics_endpoint() -> Response:
        if refresh_metrics is not None:
            await refresh_metrics()
        return PlainTextResponse(
            metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    return app


async def _store_unparseable(inbox: Inbox, body: bytes, exc: RejectedInput) -> dict[str, object]:
    await inbox.reject(
        RejectedRecord(
            reason=str(exc),
            payload=body.decode("utf-8", errors="replace"),
            source=EventSource.PUSH,
            field=exc.field,
        )
    )
    return {"result": "rejected", "field": exc.field, "message": str(exc)}
