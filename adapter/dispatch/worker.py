"""The dispatcher's loop: claims due operations, runs them against their target, hands each
outcome to `outcomes` to record.

Order and exclusivity come from the store's claim (one operation in flight per case and
target, in `seq` order, `waits_for` respected); what an outcome means is `outcomes`; the
remote ids a payload names come from the pass's `links.LinkCache`. This module runs the
pass: bounded concurrency, the store's turn beside the calls, the lease heartbeat, and
stopping the run of an operation whose lease was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from adapter.dispatch.links import LinkCache
from adapter.dispatch.outcomes import OnDone, OutcomeRecorder, status_label
from adapter.dispatch.report import DispatchReport
from adapter.dispatch.retry import in_call_retry
from adapter.errors import AmbiguousError, PermanentError, RemoteError, TransientError
from adapter.logs import get_logger
from adapter.metrics import Metrics
from adapter.planning.operations import OpKind
from adapter.planning.payloads import PAYLOADS, Payload
from adapter.settings import DispatchSettings
from adapter.store.ports import DispatchStore
from adapter.store.records import StoredOperation
from adapter.store.states import Target
from adapter.targets.attempt import attempt_scope
from adapter.targets.result import Result, TargetClient

__all__ = ["ClientLookup", "Dispatcher"]

log = get_logger(__name__)

_IN_CALL_BASE_S = 0.25
_IN_CALL_MAX_S = 1.0

ClientLookup = Callable[[str, Target], TargetClient | None]
"""(tenant, target) → the client of that tenant's remote, or None when it has none."""

Sleep = Callable[[float], Awaitable[None]]
_Outcome = tuple[StoredOperation, Result] | None


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
        on_done: OnDone | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._store = store
        self._clients = clients
        self._owner = owner
        self._settings = settings
        self._clock = clock
        self._metrics = metrics
        self._sleep = sleep
        self._links = LinkCache(store.links)
        self._calls: dict[tuple[int, int], asyncio.Task[Result]] = {}
        self._lost: set[tuple[int, int]] = set()
        self._ready: deque[StoredOperation] = deque()  # claimed ahead, not started yet
        self._stopping = False
        self._outcomes = OutcomeRecorder(
            store.outbox,
            owner=owner,
            settings=settings,
            clock=clock,
            rng=rng or random.Random(),  # noqa: S311 - jitter, not cryptography
            ready=self._ready,
            metrics=metrics,
            on_done=on_done,
        )

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
        self._links = LinkCache(self._store.links)
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
                        settling = asyncio.create_task(
                            self._outcomes.settle(successes, want, report, self._links)
                        )
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
            ids = await self._links.resolve(op, payload)
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
            outcome = status_label(exc)
            await self._outcomes.backoff(op, exc, report, unknown=True)
        except TransientError as exc:
            outcome = status_label(exc)
            await self._outcomes.backoff(op, exc, report, unknown=False)
        except PermanentError as exc:
            outcome = status_label(exc)
            await self._outcomes.park(op, exc, report)
        except Exception as exc:  # a bug must park one operation, not stop the service
            log.exception("operation failed unexpectedly", op_ref=op.op_ref, kind=op.kind)
            await self._outcomes.park(
                op, RemoteError(f"internal error: {type(exc).__name__}"), report
            )
        else:
            outcome = "ok" if result.status is None else str(result.status)
            return op, result
        finally:
            self._lost.discard(key)
            report.by_kind[op.kind] = report.by_kind.get(op.kind, 0) + 1
            if self._metrics is not None:
                self._metrics.remote_calls.labels(target, outcome).inc()
        return None


def _attempt_key(op: StoredOperation) -> tuple[int, int]:
    """One claim of an operation: every claim counts `attempts` up, so this names the lease."""
    return op.id, op.attempts
