"""The feed door: polls a tenant's internal system for new events, cursor by cursor.

The cursor moves only after every event of a page is stored (each in its own
transaction), so a crash re-reads at most one page, and storing is idempotent. Every poll
that reads the feed without failing is recorded as the tenant's last successful poll (also
when it found nothing new); one that fails is recorded with its error (`store.status`).
`probe_feed` (for `config check --probe`) reads one page of one event the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from adapter.errors import TransientError
from adapter.events import RulesLookup
from adapter.intake.inbox import Inbox
from adapter.intake.receive import Receipt, prepare_object, store_prepared
from adapter.logs import get_logger
from adapter.settings import FeedConfig, TenantConfig
from adapter.store.states import EventSource
from adapter.store.store import Store
from adapter.targets.internal_auth import internal_auth_headers

__all__ = ["FEED_CURSOR", "PollReport", "poll_feed", "probe_feed"]

log = get_logger(__name__)

FEED_CURSOR = "feed"
"""The name of the feed cursor in the cursors table."""


@dataclass(frozen=True)
class PollReport:
    """What one poll of one tenant's feed stored."""

    tenant: str
    pages: int
    receipts: tuple[Receipt, ...]


async def poll_feed(
    tenant: TenantConfig,
    *,
    http: httpx.AsyncClient,
    store: Store,
    rules: RulesLookup,
    max_pages: int = 100,
) -> PollReport:
    """Read every page the feed has after the stored cursor; store each event, then the cursor.

    Raises `TransientError` when the feed cannot be read (the scheduler tries again on its
    next tick); events stored before the failure stay stored.
    """
    feed = tenant.feed
    if not feed.enabled or not feed.url:
        return PollReport(tenant.key, 0, ())
    try:
        report = await _poll_pages(
            tenant, feed.url, http=http, store=store, rules=rules, max_pages=max_pages
        )
    except TransientError as exc:
        await store.status.record_poll(tenant.key, FEED_CURSOR, ok=False, error=str(exc))
        raise
    await store.status.record_poll(tenant.key, FEED_CURSOR, ok=True)
    return report


async def _poll_pages(
    tenant: TenantConfig,
    url: str,
    *,
    http: httpx.AsyncClient,
    store: Store,
    rules: RulesLookup,
    max_pages: int,
) -> PollReport:
    feed = tenant.feed
    inbox = Inbox(store.events)
    receipts: list[Receipt] = []
    cursor = await store.cursors.get_cursor(tenant.key, FEED_CURSOR)
    pages = 0
    while pages < max_pages:
        body = await _read_page(http, tenant.key, url, feed, limit=feed.page_size, after=cursor)
        events: list[object] = body.get("events", [])
        checked = [
            prepare_object(
                raw, rules=rules, source=EventSource.FEED, source_ref=cursor, only_tenant=tenant.key
            )
            for raw in events
        ]  # a page is stored in one transaction, before its cursor moves on
        receipts.extend(
            await store_prepared(checked, inbox=inbox, source=EventSource.FEED, source_ref=cursor)
        )
        pages += 1
        next_cursor = body.get("next_cursor")
        if isinstance(next_cursor, str) and next_cursor and next_cursor != cursor:
            await store.cursors.set_cursor(tenant.key, FEED_CURSOR, next_cursor)
            cursor = next_cursor
        if not body.get("has_more"):
            break
    log.info("feed polled", tenant=tenant.key, pages=pages, events=len(receipts))
    return PollReport(tenant.key, pages, tuple(receipts))


async def probe_feed(tenant: TenantConfig, *, http: httpx.AsyncClient) -> int:
    """One page of at most one event (`GET events?limit=1`), read with the feed door's auth
    and checks, for `config check --probe`; nothing is stored and the cursor stays. Returns
    the HTTP status; raises `TransientError` as a poll would."""
    feed = tenant.feed
    if feed.url is None:
        raise ValueError(f"tenant {tenant.key!r} has no feed url")
    await _read_page(http, tenant.key, feed.url, feed, limit=1, after=None)
    return 200


async def _read_page(
    http: httpx.AsyncClient,
    tenant: str,
    url: str,
    feed: FeedConfig,
    *,
    limit: int,
    after: str | None,
) -> dict[str, Any]:
    """One page of the feed at `url` after `after` (the start without one), sent with the
    tenant's feed key; `TransientError` when it cannot be read."""
    params: dict[str, str | int] = {"limit": limit}
    if after:
        params["after"] = after
    try:
        response = await http.get(
            f"{url.rstrip('/')}/events",
            params=params,
            headers=internal_auth_headers(feed.api_key),
        )
    except httpx.HTTPError as exc:
        raise TransientError(
            f"feed of {tenant} unreachable: {type(exc).__name__}", endpoint="/events"
        ) from exc
    if response.status_code != 200:
        raise TransientError(
            f"feed of {tenant} answered HTTP {response.status_code}",
            endpoint="/events",
            status=response.status_code,
        )
    return _page_of(response, tenant)


def _page_of(response: httpx.Response, tenant: str) -> dict[str, Any]:
    """The page object of a 200 answer; `TransientError` (never quoting the body) when the
    body is not `{"events": [...], ...}` — the cursor stays, the next tick tries again."""
    try:
        body = response.json()
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("events", []), list):
        raise TransientError(
            f"feed of {tenant} answered HTTP 200 with a body that is not a page of events",
            endpoint="/events",
            status=response.status_code,
        )
    return body
