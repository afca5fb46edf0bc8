"""The dispatcher: claims due operations, runs them against their target, records the result.

Order and exclusivity come from the store's claim (one operation in flight per case and
target, in `seq` order, `waits_for` respected); this module only decides what an outcome
means:

- success → `done`, the created remote id linked (plus any extra links learnt);
- `AmbiguousError` (sent, then timeout/reset/5xx) → `unknown`: the next attempt first looks
  the item up by `op_ref` and adopts it, and only creates it when it is not there;
- `TransientError` → back to `pending` with a persisted, jittered backoff that honours
  `Retry-After` (capped);
- `PermanentError` → `parked` with the reason; later operations of that case and target wait,
  everything else flows on.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from adapter.dispatch.retry import in_call_retry, next_attempt_delay
from adapter.errors import AmbiguousError, PermanentError, RemoteError, TransientError
from adapter.logs import get_logger
from adapter.metrics import Metrics
from adapter.planning.operations import OpKind
from adapter.planning.payloads import PAYLOADS, Payload
from adapter.settings import DispatchSettings
from adapter.store.operations_repo import Completion
from adapter.store.records import StoredOperation
from adapter.store.states import Target
from adapter.store.store import Store
from adapter.targets.result import Result, TargetClient

__all__ = ["LEAD_LINK", "ClientLookup", "DispatchReport", "Dispatcher", "link_keys"]

log = get_logger(__name__)

LEAD_LINK = "lead"
"""The links key of the plan lead, who is no participant: resolved to itself."""

_IN_CALL_BASE_S = 0.25
_IN_CALL_MAX_S = 1.0

ClientLookup = Callable[[str, Target], TargetClient | None]
"""(tenant, target) → the client of that tenant's remote, or None when it has none."""


@dataclass
class DispatchReport:
    """What one dispatcher pass did."""

    done: int = 0
    retried: int = 0
    unknown: int = 0
    parked: int = 0
    lost: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def ran(self) -> int:
        """Operations attempted in the pass."""
        return self.done + self.retried + self.unknown + self.parked + self.lost


def link_keys(payload: Payload) -> list[str]:
    """Every links-table key a payload names (`*_link` fields and `*_links` tuples)."""
    keys: list[str] = []
    for name, value in payload:
        if name.endswith("_link") and isinstance(value, str):
            keys.append(value)
        elif name.endswith("_links") and isinstance(value, tuple):
            keys.extend(v for v in value if isinstance(v, str))
    return keys


class Dispatcher:
    """Runs due operations with bounded concurrency; many cases in parallel, each in order."""

    def __init__(
        self,
        store: Store,
        clients: ClientLookup,
        *,
        owner: str,
        settings: DispatchSettings,
        clock: Callable[[], datetime],
        rng: random.Random | None = None,
        metrics: Metrics | None = None,
        on_done: Callable[[StoredOperation, Result], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        self._clients = clients
        self._owner = owner
        self._settings = settings
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._metrics = metrics
        self._on_done = on_done
        self._links: dict[tuple[str, str, Target], dict[str, str]] = {}

    async def run_pass(self) -> DispatchReport:
        """Claim and run due operations until none is due now; returns what happened.

        Up to `concurrency` operations run at once; as they finish, their successes are
        recorded together in one transaction (group commit) and the freed slots claim the
        next due operations (the store never hands out two of one case and target).
        """
        report = DispatchReport()
        # Links learnt in this pass (ours, just committed) or read once from the store. The
        # cache lives for one pass only, so a link re-pointed elsewhere (resync) is re-read.
        self._links = {}
        limit = max(1, self._settings.concurrency)
        running: set[asyncio.Task[tuple[StoredOperation, Result] | None]] = set()
        exhausted = False
        while True:
            free = limit - len(running)
            if free > 0 and not exhausted:
                claimed = await self._store.claim_operations(
                    self._owner, self._clock(), limit=free, lease_s=self._settings.lease_seconds
                )
                for op in claimed:
                    running.add(asyncio.create_task(self._run(op, report)))
                exhausted = not claimed
            if not running:
                return report
            finished, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            # surface bugs here: _run handles every error it expects
            successes = [r for r in (task.result() for task in finished) if r is not None]
            if successes:
                await self._complete(successes, report)
            exhausted = False  # a finished operation may have freed the next one

    async def _resolve(self, op: StoredOperation, payload: Payload) -> dict[str, str]:
        keys = [k for k in link_keys(payload) if k != LEAD_LINK]
        scope = (op.tenant, op.case_id, op.target)
        cached = self._links.get(scope, {})
        missing = [k for k in keys if k not in cached]
        if missing:
            fetched = await self._store.get_links(op.tenant, op.case_id, op.target, missing)
            cached = {**cached, **fetched}
            self._links[scope] = cached
        found: dict[str, str] = {}
        for key in keys:
            if key not in cached:
                raise PermanentError(
                    f"no remote id for {key!r}: the operation that creates it has not "
                    "succeeded (skipped or parked)",
                    op_ref=op.op_ref,
                )
            found[key] = cached[key]
        if LEAD_LINK in link_keys(payload):
            found[LEAD_LINK] = LEAD_LINK
        return found

    def _remember(self, op: StoredOperation, result: Result) -> None:
        """Keep the links a completed operation recorded, for later operations of its case."""
        learnt = dict(result.extra_links)
        if result.remote_id is not None and op.link is not None:
            learnt[op.link] = result.remote_id
        if learnt:
            scope = (op.tenant, op.case_id, op.target)
            self._links[scope] = {**self._links.get(scope, {}), **learnt}

    async def _attempt(
        self, client: TargetClient, op: StoredOperation, payload: Payload, ids: Mapping[str, str]
    ) -> Result:
        kind = OpKind(op.kind)
        if op.may_exist:
            found = await client.lookup(kind, payload, ids, op_ref=op.op_ref)
            if found is not None:
                log.info("operation adopted", op_ref=op.op_ref, kind=op.kind)
                return found

        # Short in-call retries for blips only: a Retry-After of a second or more stops
        # them at once, and the wait is persisted as `next_attempt_at` instead.
        async def call() -> Result:  # a coroutine function: tenacity awaits it
            return await client.execute(kind, payload, ids, op_ref=op.op_ref)

        return await in_call_retry(
            call,
            attempts=self._settings.in_call_attempts,
            base_s=min(_IN_CALL_BASE_S, self._settings.backoff_base_s),
            max_s=_IN_CALL_MAX_S,
        )

    async def _run(
        self, op: StoredOperation, report: DispatchReport
    ) -> tuple[StoredOperation, Result] | None:
        """One attempt; failures are recorded here, a success is returned for group commit."""
        target = op.target.value
        try:
            client = self._clients(op.tenant, op.target)
            if client is None:
                raise PermanentError(
                    f"tenant {op.tenant!r} has no {target} target configured", op_ref=op.op_ref
                )
            payload = PAYLOADS[OpKind(op.kind)].model_validate_json(op.payload)
            ids = await self._resolve(op, payload)
            result = await self._attempt(client, op, payload, ids)
        except AmbiguousError as exc:
            await self._backoff(op, exc, report, unknown=True)
        except TransientError as exc:
            await self._backoff(op, exc, report, unknown=False)
        except PermanentError as exc:
            await self._park(op, exc, report)
        except Exception as exc:  # a bug must park one operation, not stop the service
            log.exception("operation failed unexpectedly", op_ref=op.op_ref, kind=op.kind)
            await self._park(op, RemoteError(f"internal error: {type(exc).__name__}"), report)
        else:
            return op, result
        finally:
            report.by_kind[op.kind] = report.by_kind.get(op.kind, 0) + 1
            if self._metrics is not None:
                self._metrics.remote_calls.labels(target, "attempt").inc()
        return None

    async def _complete(
        self, successes: list[tuple[StoredOperation, Result]], report: DispatchReport
    ) -> None:
        batch = [
            Completion(op.id, result.remote_id, result.status, dict(result.extra_links))
            for op, result in successes
        ]
        recorded = await self._store.complete_operations(batch, self._owner, self._clock())
        for (op, result), ok in zip(successes, recorded, strict=True):
            if not ok:
                report.lost += 1
                log.warning("lease lost before completion", op_ref=op.op_ref)
                continue
            report.done += 1
            self._remember(op, result)
            if self._on_done is not None:
                await self._on_done(op, result)

    async def _backoff(
        self, op: StoredOperation, exc: TransientError, report: DispatchReport, *, unknown: bool
    ) -> None:
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
            ok = await self._store.mark_unknown(
                op.id, self._owner, now, error=error, next_attempt_at=when, status=exc.status
            )
            report.unknown += ok
        else:
            ok = await self._store.fail_operation(
                op.id, self._owner, now, error=error, next_attempt_at=when, status=exc.status
            )
            report.retried += ok
        report.lost += not ok
        if self._metrics is not None:
            self._metrics.retries.labels(op.target.value).inc()
        log.info(
            "operation will be retried",
            op_ref=op.op_ref,
            kind=op.kind,
            error=_loggable(exc),
            in_seconds=round(delay, 3),
            ambiguous=unknown,
        )

    async def _park(self, op: StoredOperation, exc: RemoteError, report: DispatchReport) -> None:
        error = _describe(exc)
        ok = await self._store.park_operation(
            op.id, self._owner, self._clock(), error=error, status=exc.status
        )
        report.parked += ok
        report.lost += not ok
        if self._metrics is not None:
            self._metrics.parks.labels(op.target.value).inc()
        log.warning("operation parked", op_ref=op.op_ref, kind=op.kind, error=_loggable(exc))


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
