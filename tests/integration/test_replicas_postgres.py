"""Two dispatchers (replicas) on one PostgreSQL: every operation once, each case in order."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import text

from adapter.dispatch.retry import set_testing
from adapter.dispatch.worker import Dispatcher
from adapter.planning.operations import Operation, OpKind, Target, op_ref
from adapter.planning.payloads import CreateGoal, Payload
from adapter.settings import DispatchSettings
from adapter.store import Store, open_store
from adapter.store.states import OperationState
from adapter.store.tables import metadata
from adapter.targets.result import Result
from tests.integration.conftest import PgSchemas

CASES = 50
OPS_PER_CASE = 6


@dataclass
class RecordingTarget:
    """Records which replica ran which op, in the order the calls started."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    def for_replica(self, name: str) -> _Replica:
        return _Replica(self, name)


@dataclass
class _Replica:
    shared: RecordingTarget
    name: str

    async def execute(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result:
        self.shared.calls.append((self.name, op_ref))
        await asyncio.sleep(0.002)
        return Result(remote_id=f"R:{op_ref}")

    async def lookup(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result | None:
        return None


def _ops() -> list[Operation]:
    ops = []
    for c in range(CASES):
        case = f"C{c:03}"
        for g in range(OPS_PER_CASE):
            payload = CreateGoal(plan_link="plan:stafettlogg", title="Mål", external_reference="x")
            ops.append(
                Operation(
                    op_ref=op_ref("modum", case, "goal", f"G{g}"),
                    tenant="modum",
                    case_id=case,
                    target=Target.SAMSPILL,
                    kind=OpKind.CREATE_GOAL,
                    link=f"goal:G{g}",
                    payload=payload.model_dump(mode="json"),
                )
            )
    return ops


async def test_two_dispatchers_drain_fifty_cases_once_and_in_order(
    pg_store_schema: str, pg_schemas: PgSchemas
) -> None:
    """Two replicas share the queue: no operation runs twice and every case keeps its order."""
    set_testing(True)
    args = PgSchemas.connect_args(pg_store_schema)
    a = await open_store(pg_schemas.url, connect_args=args)
    b = await open_store(pg_schemas.url, connect_args=args)
    try:
        async with a.engine.begin() as conn:
            names = ", ".join(f'"{pg_store_schema}"."{t.name}"' for t in metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
        ops = _ops()
        for c in range(CASES):
            await a.links.put_link("modum", f"C{c:03}", Target.SAMSPILL, "plan:stafettlogg", "P")
        await a.outbox.add_operations(ops)
        target = RecordingTarget()

        def replica(store_name: str, store: Store) -> Dispatcher:
            client = target.for_replica(store_name)
            return Dispatcher(
                store,
                lambda tenant, t: client,
                owner=store_name,
                settings=DispatchSettings(concurrency=8),
                clock=lambda: datetime.now(UTC),
            )

        one, two = replica("one", a), replica("two", b)
        for _ in range(OPS_PER_CASE * 4):
            await asyncio.gather(one.run_pass(), two.run_pass())
            if len(target.calls) >= len(ops):
                break
        refs = [ref for _, ref in target.calls]
        assert len(refs) == len(set(refs)) == len(ops)
        by_case: dict[str, list[str]] = defaultdict(list)
        for ref in refs:
            by_case[ref.split(":")[2]].append(ref)
        expected = defaultdict(list)
        for op in ops:
            expected[op.case_id].append(op.op_ref)
        assert by_case == expected
        assert {name for name, _ in target.calls} == {"one", "two"}
        counts = await a.outbox.count_operations_by_state()
        assert counts[OperationState.DONE] == len(ops)
    finally:
        set_testing(False)
        await a.close()
        await b.close()
