"""`MemoryCases`: the planner's case states in memory and the commit of a planning step
(the `Cases` port), all or nothing and guarded by the case's version, like
`adapter.store.cases_repo`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from adapter.errors import StoreError
from adapter.store.cases_repo import CaseVersionConflict
from adapter.store.memory.events import MemoryInbox
from adapter.store.memory.outbox import MemoryOutbox
from adapter.store.records import CaseRecord, PlanCommit

__all__ = ["MemoryCases"]


class MemoryCases:
    """Case states by (tenant, case id); a commit also sets event states and adds operations."""

    def __init__(
        self, clock: Callable[[], datetime], events: MemoryInbox, outbox: MemoryOutbox
    ) -> None:
        self._clock = clock
        self._events = events
        self._outbox = outbox
        self._rows: dict[tuple[str, str], CaseRecord] = {}

    async def load_case(self, tenant: str, case_id: str) -> CaseRecord | None:
        """A case's stored state and version, or None for a new case."""
        return self._rows.get((tenant, case_id))

    async def list_cases(self, tenant: str | None = None) -> list[CaseRecord]:
        """Every case (of `tenant`), by tenant and case id."""
        return [r for k, r in sorted(self._rows.items()) if tenant in (None, r.tenant)]

    async def commit_plan(self, commit: PlanCommit) -> int:
        """The case's new state (version-checked), its events' states and its operations, all
        or nothing; the new version. `CaseVersionConflict` when the case changed since it
        was loaded (or was created meanwhile), `StoreError` for an unknown event row."""
        key = (commit.tenant, commit.case_id)
        stored = self._rows.get(key)
        if commit.expected_version is None and stored is not None:
            raise CaseVersionConflict(
                f"case {commit.tenant}/{commit.case_id} was created meanwhile"
            )
        if commit.expected_version is not None and (
            stored is None or stored.version != commit.expected_version
        ):
            raise CaseVersionConflict(
                f"case {commit.tenant}/{commit.case_id} changed since version "
                f"{commit.expected_version}"
            )
        for change in commit.events:
            if await self._events.get_event(change.id) is None:
                raise StoreError(f"no stored event with id {change.id}")
        now = self._clock()
        version = 1 if stored is None else stored.version + 1
        self._rows[key] = CaseRecord(
            tenant=commit.tenant,
            case_id=commit.case_id,
            state=commit.state,
            last_sequence_planned=commit.last_sequence_planned,
            closed_at=commit.closed_at,
            purged_at=None if stored is None else stored.purged_at,
            updated_at=now,
            version=version,
        )
        for change in commit.events:
            self._events.set_state(change.id, change.state, change.reason, now)
        await self._outbox.add_operations(commit.operations)
        return version
