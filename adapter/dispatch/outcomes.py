"""What an attempt's outcome means, recorded in the outbox by the lease holder.

- success → `done`, the created remote id linked (plus any extra links learnt), recorded in
  the dispatcher's turn together with its next claim (group commit);
- `AmbiguousError` (sent, then timeout/reset/5xx) → `unknown`: the next attempt first looks
  the item up by `op_ref` and adopts it, and only creates it when it is not there;
- `TransientError` → back to `pending` with a persisted, jittered backoff that honours
  `Retry-After` (capped); a 429 pauses the tenant's whole queue to that target;
- `PermanentError` → `parked` with the reason; later operations of that case and target wait,
  everything else flows on.

A record the outbox refuses (the lease was lost: someone else owns the operation now)
counts as `lost` and changes nothing.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from adapter.dispatch.links import LinkCache
from adapter.dispatch.report import DispatchReport
from adapter.dispatch.retry import next_attempt_delay
from adapter.errors import AmbiguousError, RemoteError, TransientError
from adapter.logs import get_logger
from adapter.metrics import Metrics
from adapter.settings import DispatchSettings
from adapter.store.ports import Outbox
from adapter.store.records import Completion, StoredOperation
from adapter.targets.result import Result

__all__ = ["OnDone", "OutcomeRecorder", "status_label"]

log = get_logger(__name__)

OnDone = Callable[[StoredOperation, Result], Awaitable[None]]
"""Called after a success is recorded (tests and tools watch completions with it)."""


class OutcomeRecorder:
    """Records outcomes under `owner`'s leases; `ready` are the operations claimed ahead
    (a rate limit gives its queue's back)."""

    def __init__(
        self,
        outbox: Outbox,
        *,
        owner: str,
        settings: DispatchSettings,
        clock: Callable[[], datetime],
        rng: random.Random,
        ready: deque[StoredOperation],
        metrics: Metrics | None = None,
        on_done: OnDone | None = None,
    ) -> None:
        self._outbox = outbox
        self._owner = owner
        self._settings = settings
        self._clock = clock
        self._rng = rng
        self._ready = ready
        self._metrics = metrics
        self._on_done = on_done

    async def settle(
        self,
        successes: Sequence[tuple[StoredOperation, Result]],
        want: int,
        report: DispatchReport,
        links: LinkCache,
    ) -> list[StoredOperation]:
        """Record the successes and claim up to `want` operations, in one transaction."""
        batch = [
            Completion(op.id, result.remote_id, result.status, dict(result.extra_links))
            for op, result in successes
        ]
        recorded, claimed = await self._outbox.settle(
            batch, self._owner, self._clock(), claim=want, lease_s=self._settings.lease_seconds
        )
        for (op, result), ok in zip(successes, recorded, strict=True):
            if not ok:
                report.lost += 1
                log.warning("lease lost before completion", op_ref=op.op_ref)
                continue
            report.done += 1
            links.remember(op, result)
            if self._on_done is not None:
                await self._on_done(op, result)
        return claimed

    async def backoff(
        self, op: StoredOperation, exc: TransientError, report: DispatchReport, *, unknown: bool
    ) -> None:
        """A transient (or, `unknown`, ambiguous) failure: due again after the backoff."""
        now = self._clock()
        s = self._settings
        delay = next_attempt_delay(
            op.attempts,
            base_s=s.backoff_base_s,
            max_s=s.backoff_max_s,
            retry_after=exc.retry_after,
            cap_s=s.retry_after_cap_s,
            rng=self._rng,
        )
        when = now + timedelta(seconds=delay)
        error = _describe(exc)
        if unknown:
            ok = await self._outbox.mark_unknown(
                op.id, self._owner, now, error=error, next_attempt_at=when, status=exc.status
            )
            report.unknown += ok
        else:
            ok = await self._outbox.fail_operation(
                op.id, self._owner, now, error=error, next_attempt_at=when, status=exc.status
            )
            report.retried += ok
        report.lost += not ok
        if self._metrics is not None:
            self._metrics.retries.labels(op.target.value).inc()
        if exc.status == 429 and exc.retry_after is not None:
            await self._pause_queue(
                op, now + timedelta(seconds=min(exc.retry_after, s.retry_after_cap_s))
            )
        log.info(
            "operation will be retried",
            op_ref=op.op_ref,
            kind=op.kind,
            error=_loggable(exc),
            in_seconds=round(delay, 3),
            ambiguous=unknown,
        )

    async def _pause_queue(self, op: StoredOperation, until: datetime) -> None:
        """A 429 is the remote's rate limit for the tenant's client, not for one operation:
        every waiting operation of that tenant and target waits until `until` (persisted,
        so other replicas and `run --once` see it too). Those claimed ahead go back first."""
        queue = [o for o in self._ready if (o.tenant, o.target) == (op.tenant, op.target)]
        if queue:
            for claimed in queue:
                self._ready.remove(claimed)
            await self._outbox.unclaim_operations([o.id for o in queue], self._owner)
        paused = await self._outbox.defer_operations(op.tenant, op.target, until)
        if paused:
            log.info(
                "rate limited; the tenant's queue waits",
                tenant=op.tenant,
                target=op.target.value,
                operations=paused,
                until=until.isoformat(),
            )

    async def park(self, op: StoredOperation, exc: RemoteError, report: DispatchReport) -> None:
        """A permanent failure (or a bug): parked with its reason."""
        error = _describe(exc)
        ok = await self._outbox.park_operation(
            op.id, self._owner, self._clock(), error=error, status=exc.status
        )
        report.parked += ok
        report.lost += not ok
        if self._metrics is not None:
            self._metrics.parks.labels(op.target.value).inc()
        log.warning("operation parked", op_ref=op.op_ref, kind=op.kind, error=_loggable(exc))


def status_label(exc: RemoteError) -> str:
    """The `status` label of a failed attempt: its HTTP error status, else its error class.

    Bounded: HTTP statuses and a handful of class names (a SIF business error is HTTP 200,
    so it counts by class).
    """
    if exc.status is not None and not 200 <= exc.status < 300:
        return str(exc.status)
    if isinstance(exc, AmbiguousError):
        return "ambiguous"
    if isinstance(exc, TransientError):
        return "transient"
    return "permanent"


def _loggable(exc: RemoteError) -> str:
    """What a log line may say of an error: its class and message, never `detail`.

    `detail` (e.g. a SIF `ErrorMessage`) may hold names: it goes to the store only.
    """
    return f"{type(exc).__name__}: {exc}"[:500]


def _describe(exc: RemoteError) -> str:
    """The error as stored with the operation, for an operator (may include `detail`)."""
    detail = getattr(exc, "detail", None)
    text = str(exc)
    if isinstance(detail, str) and detail:
        text = f"{text} — {detail}"
    return f"{type(exc).__name__}: {text}"[:2000]
