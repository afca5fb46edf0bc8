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
import contextlib
import random
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from adapter.dispatch.retry import in_call_retry, next_attempt_delay
from adapter.errors import AmbiguousError, PermanentError, RemoteError, TransientError
from adapter.logs import get_logger
from adapter.metrics import Metrics
from adapter.planning.links import LEAD_LINK
from adapter.planning.operations import OpKind
from adapter.planning.payloads import PAYLOADS, Payload
from adapter.settings import DispatchSettings
from adapter.store.ports import DispatchStore
from adapter.store.records import Completion, StoredOperation
from adapter.store.states import Target
from adapter.targets.attempt import attempt_scope
from adapter.targets.result import Result, TargetClient

__all__ = ["ClientLookup", "DispatchReport", "Dispatcher", "link_keys"]

log = get_logger(__name__)

_LINK_CACHE_CASES = 256
"""Cases whose links a pass keeps at most (least recently used go first): a few times the
cases in flight, so memory stays flat however long the backlog a pass drains."""

_IN_CALL_BASE_S = 0.25
_IN_CALL_MAX_S = 1.0

ClientLookup = Callable[[str, Target], TargetClient | None]
"""(tenant, target) → the client of that tenant's remote, or None when it has none."""

Sleep = Callable[[float], Awaitable[None]]
_Outcome = tuple[StoredOperation, Result] | None


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
        store: DispatchStore,
        clients: ClientLookup,
        *,
        owner: str,
        settings: DispatchSettings,
        clock: Callable[[], datetime],
        rng: random.Random | None = None,
        metrics: Metrics | None = None,
        on_done: Callable[[StoredOperation, Result], Awaitable[None]] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._store = store
        self._clients = clients
        self._owner = owner
        self._settings = settings
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._metrics = metrics
        self._on_done = on_done
        self._sleep = sleep
        self._links: OrderedDict[tuple[str, str, Target], dict[str, str]] = OrderedDict()
        self._calls: dict[tuple[int, int], asyncio.Task[Result]] = {}
        self._lost: set[tuple[int, int]] = set()
        self._ready: deque[StoredOperation] = deque()  # claimed ahead, not started yet
        self._stopping = False

    def stop(self) -> None:
        """Claim nothing more: the pass in progress ends once its running operations end."""
        self._stopping = True

    @property
    def stopping(self) -> bool:
        """Whether `stop` was called."""
        return self._stopping

    async def run_pass(self) -> DispatchReport:
        """Claim and run due operations until none is due now; returns what happened.

        Up to `concurrency` operations run at once. Beside them, one store transaction at a
        time records the successes so far (group commit) and claims the next due operations
        — a batch ahead of the free slots, so a slot that frees starts its next operation at
        once (the store never hands out two of one case and target). While any are owned, a
        heartbeat extends their leases every `heartbeat_seconds`, the ones claimed ahead
        included; one whose lease was lost (taken over elsewhere) is stopped and records
        nothing. After `stop`, no new operation is claimed and those claimed ahead go back.
        """
        report = DispatchReport()
        # Links learnt in this pass (ours, just committed) or read once from the store. The
        # cache lives for one pass only, so a link re-pointed elsewhere (resync) is re-read,
        # and holds the most recently used cases only.
        self._links = OrderedDict()
        running: dict[asyncio.Task[_Outcome], StoredOperation] = {}
        beat = asyncio.create_task(self._heartbeat(running, report))
        try:
            await self._drain(running, report)
        finally:
            beat.cancel()
            for task in running:  # only when the pass itself is cancelled: leases expire
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        return report

    async def _drain(
        self, running: dict[asyncio.Task[_Outcome], StoredOperation], report: DispatchReport
    ) -> None:
        limit = max(1, self._settings.concurrency)
        # The store's turn (record what finished, claim what comes next: one transaction)
        # runs beside the remote calls, never between them, and claims a batch ahead, so a
        # freed slot starts its next operation at once instead of waiting for the store.
        # Half the slots a turn: a turn's cost is mostly fixed (one transaction) and it
        # shares the interpreter with the calls (store alone, measured: a turn of 4 cost
        # 0.66 ms an operation, a turn of 8 0.29 ms).
        batch = max(1, limit // 2)
        # Operations owned at most: running plus a batch claimed ahead. With a few slots
        # nothing is claimed ahead: there a claimed-ahead operation would wait on a slow
        # call that another replica's free slot could have run meanwhile.
        ahead = limit + (batch if limit >= 4 else 0)
        ready = self._ready
        settling: asyncio.Task[list[StoredOperation]] | None = None
        settling_claims = False
        exhausted = False
        successes: list[tuple[StoredOperation, Result]] = []
        try:
            while True:
                while ready and len(running) < limit and not self._stopping:
                    op = ready.popleft()
                    running[asyncio.create_task(self._run(op, report))] = op
                if settling is None:
                    owned = len(running) + len(ready)
                    # A success not yet recorded may free its queue's next operation: the
                    # turn that records it claims too, even after a claim found nothing.
                    claimable = not self._stopping and (not exhausted or bool(successes))
                    room = ahead - owned
                    want = room if claimable and (room >= batch or owned == 0) else 0
                    if want or (successes and (not claimable or not running)):
                        settling = asyncio.create_task(self._settle(successes, want, report))
                        settling_claims, successes = want > 0, []
                if settling is None and not running:
                    return
                waiting: set[asyncio.Task[Any]] = set(running)
                if settling is not None:
                    waiting.add(settling)
                finished, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    if task is settling:
                        settling = None
                        claimed = task.result()
                        for op in claimed:
                            self._stop_stale(op, running, report)
                            ready.append(op)
                        if settling_claims:
                            exhausted = not claimed
                        continue
                    del running[task]
                    outcome = task.result()  # surface bugs here: _run handles what it expects
                    if outcome is not None:
                        successes.append(outcome)
                    exhausted = False  # a finished operation may have freed the next one
        finally:
            if settling is not None:  # only when the pass itself is cancelled
                settling.cancel()
            if ready:  # claimed ahead but never started (a stop): back to the queue at once
                await self._store.outbox.unclaim_operations([op.id for op in ready], self._owner)
                ready.clear()

    def _stop_stale(
        self,
        op: StoredOperation,
        running: Mapping[asyncio.Task[_Outcome], StoredOperation],
        report: DispatchReport,
    ) -> None:
        """A claim handed us an operation we still run: its old lease was lost; stop that run."""
        for other in running.values():
            if other.id == op.id:
                self._lose(other, report)

    def _lose(self, op: StoredOperation, report: DispatchReport) -> None:
        """Stop the run of `op` whose lease is gone (its call, or the call before it starts)."""
        key = _attempt_key(op)
        call = self._calls.get(key)
        if key in self._lost or (call is not None and call.done()):
            return  # already stopped, or finished: the store refuses to record its outcome
        self._lost.add(key)
        report.lost += 1
        log.warning("lease lost; the running operation is stopped", op_ref=op.op_ref)
        if call is not None:
            call.cancel()

    async def _heartbeat(
        self, running: Mapping[asyncio.Task[_Outcome], StoredOperation], report: DispatchReport
    ) -> None:
        """Every `heartbeat_seconds`, extend the leases of the operations still running."""
        while True:
            try:
                await self._sleep(self._settings.heartbeat_seconds)
                live = [(task, op) for task, op in running.items() if not task.done()]
                waiting = list(self._ready)
                if not live and not waiting:
                    continue
                until = self._clock() + timedelta(seconds=self._settings.lease_seconds)
                ids = [op.id for _, op in live] + [op.id for op in waiting]
                held = await self._store.outbox.extend_leases(ids, self._owner, until)
            except Exception:  # a store hiccup: the leases still have time; try next beat
                log.exception("lease heartbeat failed")
                continue
            for task, op in live:
                if op.id not in held and not task.done():  # done meanwhile: nothing to stop
                    self._lose(op, report)
            for op in waiting:
                if op.id not in held and op in self._ready:  # lost before it started
                    self._ready.remove(op)
                    report.lost += 1

    async def _resolve(self, op: StoredOperation, payload: Payload) -> dict[str, str]:
        keys = [k for k in link_keys(payload) if k != LEAD_LINK]
        scope = (op.tenant, op.case_id, op.target)
        cached = self._links.get(scope, {})
        missing = [k for k in keys if k not in cached]
        if missing:
            fetched = await self._store.links.get_links(op.tenant, op.case_id, op.target, missing)
            cached = {**cached, **fetched}  # what it knew before the read may be evicted now
        self._cache_links(scope, cached)
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
            self._cache_links(scope, {**self._links.get(scope, {}), **learnt})

    def _cache_links(self, scope: tuple[str, str, Target], known: dict[str, str]) -> None:
        """Keep `known` as the scope's links, most recently used; evict beyond the bound."""
        if not known:
            return
        self._links[scope] = known
        self._links.move_to_end(scope)
        while len(self._links) > _LINK_CACHE_CASES:
            self._links.popitem(last=False)

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

        with attempt_scope():  # what the client prepares is kept across these retries
            return await in_call_retry(
                call,
                attempts=self._settings.in_call_attempts,
                base_s=min(_IN_CALL_BASE_S, self._settings.backoff_base_s),
                max_s=_IN_CALL_MAX_S,
            )

    async def _run(self, op: StoredOperation, report: DispatchReport) -> _Outcome:
        """One attempt; failures are recorded here, a success is returned for group commit.

        The remote part runs as a task of its own, so a heartbeat that finds the lease lost
        can stop it; a stopped attempt records nothing (the new holder owns the operation).
        """
        target = op.target.value
        key = _attempt_key(op)
        outcome = "error"
        try:
            client = self._clients(op.tenant, op.target)
            if client is None:
                raise PermanentError(
                    f"tenant {op.tenant!r} has no {target} target configured", op_ref=op.op_ref
                )
            payload = PAYLOADS[OpKind(op.kind)].model_validate_json(op.payload)
            ids = await self._resolve(op, payload)
            if key in self._lost:
                raise asyncio.CancelledError  # lost before the call began: never send it
            call = asyncio.create_task(self._attempt(client, op, payload, ids))
            self._calls[key] = call
            try:
                result = await call
            finally:
                del self._calls[key]
        except asyncio.CancelledError:
            if key not in self._lost:
                raise  # the pass itself is cancelled
            outcome = "lease-lost"
            return None
        except AmbiguousError as exc:
            outcome = _outcome(exc)
            await self._backoff(op, exc, report, unknown=True)
        except TransientError as exc:
            outcome = _outcome(exc)
            await self._backoff(op, exc, report, unknown=False)
        except PermanentError as exc:
            outcome = _outcome(exc)
            await self._park(op, exc, report)
        except Exception as exc:  # a bug must park one operation, not stop the service
            log.exception("operation failed unexpectedly", op_ref=op.op_ref, kind=op.kind)
            await self._park(op, RemoteError(f"internal error: {type(exc).__name__}"), report)
        else:
            outcome = "ok" if result.status is None else str(result.status)
            return op, result
        finally:
            self._lost.discard(key)
            report.by_kind[op.kind] = report.by_kind.get(op.kind, 0) + 1
            if self._metrics is not None:
                self._metrics.remote_calls.labels(target, outcome).inc()
        return None

    async def _settle(
        self, successes: list[tuple[StoredOperation, Result]], want: int, report: DispatchReport
    ) -> list[StoredOperation]:
        """Record the successes and claim up to `want` operations, in one transaction."""
        batch = [
            Completion(op.id, result.remote_id, result.status, dict(result.extra_links))
            for op, result in successes
        ]
        recorded, claimed = await self._store.outbox.settle(
            batch, self._owner, self._clock(), claim=want, lease_s=self._settings.lease_seconds
        )
        for (op, result), ok in zip(successes, recorded, strict=True):
            if not ok:
                report.lost += 1
                log.warning("lease lost before completion", op_ref=op.op_ref)
                continue
            report.done += 1
            self._remember(op, result)
            if self._on_done is not None:
                await self._on_done(op, result)
        return claimed

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
            ok = await self._store.outbox.mark_unknown(
                op.id, self._owner, now, error=error, next_attempt_at=when, status=exc.status
            )
            report.unknown += ok
        else:
            ok = await self._store.outbox.fail_operation(
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
            await self._store.outbox.unclaim_operations([o.id for o in queue], self._owner)
        paused = await self._store.outbox.defer_operations(op.tenant, op.target, until)
        if paused:
            log.info(
                "rate limited; the tenant's queue waits",
                tenant=op.tenant,
                target=op.target.value,
                operations=paused,
                until=until.isoformat(),
            )

    async def _park(self, op: StoredOperation, exc: RemoteError, report: DispatchReport) -> None:
        error = _describe(exc)
        ok = await self._store.outbox.park_operation(
            op.id, self._owner, self._clock(), error=error, status=exc.status
        )
        report.parked += ok
        report.lost += not ok
        if self._metrics is not None:
            self._metrics.parks.labels(op.target.value).inc()
        log.warning("operation parked", op_ref=op.op_ref, kind=op.kind, error=_loggable(exc))


def _attempt_key(op: StoredOperation) -> tuple[int, int]:
    """One claim of an operation: every claim counts `attempts` up, so this names the lease."""
    return op.id, op.attempts


def _outcome(exc: RemoteError) -> str:
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
