"""The adapter's own HTTP port: the push door, health, readiness, metrics, the push door's
OpenAPI (`/openapi.json`, `/docs`) and the operators' status page (`adapter.status`).

Thin wiring only: the push door hands every event to the same receive step as the other
doors (`adapter.intake.receive`), so validation and storage are identical everywhere. It
answers 202 when at least one event of the request was accepted or was a duplicate, 422
when every one was rejected (per-event results in both); every answer is counted by status
in `stafett_push_requests_total`, and a refused request (401/400/413) is logged, never
its body.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from adapter import __version__
from adapter.errors import RejectedInput, StoreError
from adapter.events import RulesLookup
from adapter.events.parse import decode_json
from adapter.http_port import BodyDeadline
from adapter.intake.inbox import Inbox
from adapter.intake.receive import Receipt, ReceiptOutcome, prepare_object, store_prepared
from adapter.logs import get_logger
from adapter.metrics import Metrics
from adapter.settings import Settings
from adapter.status import status_router
from adapter.store.records import RejectedRecord
from adapter.store.states import EventSource
from adapter.store.store import Store
from adapter.web_contract import PUSH_RESPONSES, install_push_openapi

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


def request_timed_out(metrics: Metrics, part: str) -> None:
    """Count and log a request cut off because its headers or body came too slowly."""
    metrics.push_requests.labels("408").inc()
    log.warning("request too slow", status=408, part=part)


def create_web_app(
    *,
    settings: Settings,
    store: Store,
    rules: RulesLookup,
    metrics: Metrics,
    refresh_metrics: Callable[[], Awaitable[None]] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FastAPI:
    """The FastAPI app of `stafett run`: `POST /events`, `/healthz`, `/readyz`, `/metrics`,
    `/openapi.json`, `/docs`, and with `http.status_token` `/status` and `/status.json`."""
    app = FastAPI(
        title="stafett push door",
        description="The adapter's HTTP port: the push door of events.md, health and metrics.",
        version=__version__,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    install_push_openapi(app, path="/events", version=__version__)
    app.add_middleware(
        BodyDeadline,
        timeout_s=settings.http.body_timeout_s,
        max_bytes=settings.http.max_body_bytes,
        on_timeout=lambda part: request_timed_out(metrics, part),
    )
    inbox = Inbox(store.events)
    limit = settings.http.max_body_bytes

    def refuse(
        status: int, body: Mapping[str, object], *, why: str, tenant: str | None
    ) -> Response:
        metrics.push_requests.labels(str(status)).inc()
        log.warning("push refused", status=status, reason=why, tenant=tenant)
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
        return JSONResponse(dict(body), status_code=status, headers=headers)

    @app.post(
        "/events",
        status_code=202,
        summary="Push events (one event or an array)",
        responses=PUSH_RESPONSES,
        response_model=None,
    )
    async def push_events(request: Request) -> Response:
        tenant = tenant_for_token(settings, request.headers.get("authorization"))
        if tenant is None:
            return refuse(401, {"error": "invalid_token"}, why="no valid token", tenant=None)
        too_large = {"error": f"body over {limit} bytes"}
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return refuse(413, too_large, why="declared body over the limit", tenant=tenant)
        body = await _read_limited(request, limit)
        if body is None:
            return refuse(413, too_large, why="body over the limit", tenant=tenant)
        try:
            decoded = decode_json(body)
        except RejectedInput as exc:
            refused = await _store_unparseable(inbox, body, exc)
            return refuse(400, {"results": [refused]}, why="body is not JSON", tenant=tenant)
        items = decoded if isinstance(decoded, list) else [decoded]
        checked = [
            prepare_object(item, rules=rules, source=EventSource.PUSH, only_tenant=tenant)
            for item in items
        ]  # stored in one transaction before the answer
        receipts = await store_prepared(
            checked, inbox=inbox, source=EventSource.PUSH, source_ref=None
        )
        counts = _count(receipts)
        taken = counts[ReceiptOutcome.ACCEPTED] + counts[ReceiptOutcome.DUPLICATE]
        status = 202 if taken else 422  # 422: every event rejected (or none sent)
        metrics.push_requests.labels(str(status)).inc()
        log.info(
            "push received",
            tenant=tenant,
            accepted=counts[ReceiptOutcome.ACCEPTED],
            duplicate=counts[ReceiptOutcome.DUPLICATE],
            rejected=counts[ReceiptOutcome.REJECTED],
            status=status,
        )
        return JSONResponse({"results": [got.as_json() for got in receipts]}, status_code=status)

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

    status_page = status_router(settings, store, clock)
    if status_page is not None:
        app.include_router(status_page)
    return app


def _count(receipts: list[Receipt]) -> dict[ReceiptOutcome, int]:
    counts = dict.fromkeys(ReceiptOutcome, 0)
    for got in receipts:
        counts[got.outcome] += 1
    return counts


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
