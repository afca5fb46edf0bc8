"""The poll job: every tenant's feed polled once, new events into the inbox."""

from __future__ import annotations

from adapter.errors import TransientError
from adapter.intake.feed import poll_feed
from adapter.logs import get_logger
from adapter.wiring.runtime import Runtime

__all__ = ["FeedPoll", "poll_all"]

log = get_logger(__name__)


async def poll_all(rt: Runtime) -> int:
    """Poll every tenant's feed once; a feed that fails is logged and skipped."""
    stored = 0
    for tenant in rt.settings.tenants.values():
        if not tenant.feed.enabled:
            continue
        try:
            report = await poll_feed(tenant, http=rt.http, store=rt.store, rules=rt.lookup)
        except TransientError as exc:
            log.warning("feed poll failed", tenant=tenant.key, error=str(exc))
            continue
        stored += len(report.receipts)
        rt.metrics.last_poll.labels(tenant.key).set(rt.clock().timestamp())
    return stored


class FeedPoll:
    """The `poll` job: `poll_all`; returns the events stored."""

    name = "poll"
    singleton = False

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    async def run(self) -> int:
        """Poll every tenant's feed once."""
        return await poll_all(self._rt)
