"""The store's ports: what the dispatcher, the jobs and the planning step need of it.

Each is a small protocol. `adapter.store.Store` provides them on PostgreSQL and SQLite
(`store.outbox`, `store.links`, `store.events`, `store.cases`); `adapter.store.memory`
provides them in memory for unit tests, and one contract suite
(`tests/integration/test_outbox_contract.py`) runs the same tests against all three.

- `Outbox`: the claim/lease protocol of `adapter.store.outbox` (order per case and target,
  one in flight per case and target, leases that expire into `unknown`, `waits_for`,
  persisted `next_attempt_at`), the outcomes a lease holder records, and the counts the
  jobs report.
- `Links`: the remote ids the dispatcher resolves a payload's link keys to.
- `InboxReader` and `Cases`: what the planning step reads and commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from adapter.planning.operations import Operation
from adapter.store.records import (
    CaseKey,
    CaseRecord,
    Completion,
    ParkedOperation,
    PlanCommit,
    StoredEvent,
    StoredOperation,
)
from adapter.store.states import EventState, OperationState, Target

__all__ = ["Cases", "DispatchStore", "InboxReader", "Links", "Outbox", "PlanningStore"]


class Outbox(Protocol):
    """The outbox as the dispatcher and the jobs use it (see `adapter.store.outbox`)."""

    async def add_operations(self, ops: Sequence[Operation]) -> int:
        """Append operations in order; an `op_ref` already stored is left as it is."""
        ...

    async def operations_for_case(self, tenant: str, case_id: str) -> list[StoredOperation]:
        """A case's operations in `seq` order."""
        ...

    async def claim_operations(
        self, owner: str, now: datetime, limit: int = 10, lease_s: float = 60.0
    ) -> list[StoredOperation]:
        """Claim up to `limit` due operations, oldest first, at most one per case and target."""
        ...

    async def settle(
        self,
        completions: Sequence[Completion],
        owner: str,
        now: datetime,
        *,
        claim: int,
        lease_s: float = 60.0,
    ) -> tuple[list[bool], list[StoredOperation]]:
        """Record successes (per completion: recorded, or the lease was lost) and claim up to
        `claim` more operations, in one transaction."""
        ...

    async def extend_leases(self, op_ids: Sequence[int], owner: str, until: datetime) -> set[int]:
        """Move the leases `owner` still holds to `until`; returns the ids still held."""
        ...

    async def unclaim_operations(self, op_ids: Sequence[int], owner: str) -> int:
        """Give back operations claimed but never started (their attempt not counted)."""
        ...

    async def fail_operation(
        self,
        op_id: int,
        owner: str,
        now: datetime,
        *,
        error: str,
        next_attempt_at: datetime,
        status: int | None = None,
    ) -> bool:
        """A transient failure: `pending` again from `next_attempt_at`, keeping its place."""
        ...

    async def mark_unknown(
        self,
        op_id: int,
        owner: str,
        now: datetime,
        *,
        error: str,
        next_attempt_at: datetime,
        status: int | None = None,
    ) -> bool:
        """An ambiguous failure: `unknown` with `may_exist` (look up before re-creating)."""
        ...

    async def park_operation(
        self, op_id: int, owner: str, now: datetime, *, error: str, status: int | None = None
    ) -> bool:
        """A permanent failure: `parked`; later operations of its case and target wait."""
        ...

    async def defer_operations(self, tenant: str, target: Target, until: datetime) -> int:
        """Hold every waiting operation of a tenant and target until `until` (a rate limit)."""
        ...

    async def release_expired_leases(self, now: datetime) -> list[str]:
        """Leases ended before `now` become `unknown` with `may_exist`; their op_refs."""
        ...

    async def retry_parked(
        self, tenant: str, case_id: str, now: datetime, target: Target | None = None
    ) -> int:
        """Operator action: a case's parked operations become `pending`, due at `now`."""
        ...

    async def skip_operation(self, op_id: int, now: datetime) -> bool:
        """Operator action: give up a parked, pending or unknown operation (`skipped`)."""
        ...

    async def next_due_at(self) -> datetime | None:
        """When the next waiting operation that nothing holds falls due (None: none waits)."""
        ...

    async def count_operations_by_state(
        self, tenant: str | None = None
    ) -> dict[OperationState, int]:
        """Operations per state, zeros included."""
        ...

    async def operation_counts_by_queue(
        self,
    ) -> dict[tuple[str, Target], dict[OperationState, int]]:
        """Per (tenant, target), operations per state, zeros included."""
        ...

    async def oldest_pending_age(
        self, now: datetime, tenant: str | None = None
    ) -> timedelta | None:
        """How long the oldest unfinished operation has waited."""
        ...

    async def list_parked(self, tenant: str | None = None) -> list[ParkedOperation]:
        """Parked operations, oldest first."""
        ...

    async def parked_cases(self, tenant: str | None = None) -> list[CaseKey]:
        """Cases with at least one parked operation, sorted."""
        ...


class Links(Protocol):
    """Internal link keys → remote ids, per case and target."""

    async def get_links(
        self, tenant: str, case_id: str, target: Target, internal_refs: list[str]
    ) -> dict[str, str]:
        """The remote ids of several internal items of one case and target."""
        ...


class DispatchStore(Protocol):
    """What the dispatcher and the dispatch job need: the outbox and the links."""

    @property
    def outbox(self) -> Outbox:
        """The outbox."""
        ...

    @property
    def links(self) -> Links:
        """The links."""
        ...


class InboxReader(Protocol):
    """The stored events, as the planning step reads them."""

    async def cases_with_events(
        self, states: Sequence[EventState], tenant: str | None = None
    ) -> list[CaseKey]:
        """Cases with at least one event in one of `states`."""
        ...

    async def events_for_case(self, tenant: str, case_id: str) -> list[StoredEvent]:
        """A case's events in sequence order."""
        ...


class Cases(Protocol):
    """The planner's case states and the commit of a planning step."""

    async def load_case(self, tenant: str, case_id: str) -> CaseRecord | None:
        """A case's stored state and version, or None for a new case."""
        ...

    async def commit_plan(self, commit: PlanCommit) -> int:
        """A planning step, all or nothing, guarded by the case's version."""
        ...


class PlanningStore(Protocol):
    """What the planning step needs: the inbox to read and the cases to commit to."""

    @property
    def events(self) -> InboxReader:
        """The stored events."""
        ...

    @property
    def cases(self) -> Cases:
        """The case states."""
        ...
