"""The outbox's SQL conditions: which rows wait, which are held, which a holder may touch.

The claim rules of `adapter.store.outbox` as SQL expressions over `operations`, shared by
the claim (`claims`), the outcomes (`transitions`) and `next_due_at` (`queries`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam, exists, or_

from adapter.planning.operations import OpKind
from adapter.store.states import OperationState, Target
from adapter.store.tables import operations

__all__ = [
    "CLAIMABLE",
    "ENDS_PLAN",
    "FINISHED",
    "OPEN",
    "claimable",
    "consts",
    "held_by",
    "is_in",
    "is_not_in",
    "queue_busy",
    "unblocked",
]

_S = OperationState
FINISHED = [_S.DONE.value, _S.SKIPPED.value]
CLAIMABLE = [_S.PENDING.value, _S.UNKNOWN.value]
OPEN = [_S.PENDING.value, _S.IN_FLIGHT.value, _S.UNKNOWN.value]
ENDS_PLAN = [OpKind.CLOSE_PLAN.value, OpKind.TRANSFER_PLAN.value]


def is_in(column: ColumnElement[str], *values: str) -> ColumnElement[bool]:
    """`column IN ('a', 'b')` with the constants written into the SQL, not bound.

    A partial index (`ix_operations_waiting`, `uq_operations_in_flight`) serves a query
    only when the planner can see that the query's condition implies the index's: SQLite
    proves that from literals, never from bound parameters (measured: with `IN (?, ?)` the
    claim scanned the whole table, 5.6 ms at 48,000 operations; with literals it reads the
    index, 0.4 ms), and PostgreSQL's generic plans of prepared statements neither. The
    values are our own state constants, never input.
    """
    if len(values) == 1:
        return column == bindparam(None, values[0], literal_execute=True)
    return column.in_(consts(values))


def is_not_in(column: ColumnElement[str], *values: str) -> ColumnElement[bool]:
    """`column NOT IN ('a', 'b')` with the constants written into the SQL (see `is_in`)."""
    return column.not_in(consts(values))


def consts(values: Sequence[str]) -> BindParameter[list[str]]:
    """A list of constants rendered into the statement's SQL when it runs."""
    return bindparam(None, list(values), expanding=True, literal_execute=True)


def held_by(owner: str, op_ids: Sequence[int]) -> ColumnElement[bool]:
    """Of `op_ids`, those still in flight under `owner`'s lease (the only ones it may touch)."""
    o = operations
    return o.c.id.in_(list(op_ids)) & (o.c.state == _S.IN_FLIGHT.value) & (o.c.lease_owner == owner)


def claimable(now: Any) -> ColumnElement[bool]:
    """The claim condition of the module docstring, as one SQL expression over `operations`."""
    o = operations
    due = or_(o.c.next_attempt_at.is_(None), o.c.next_attempt_at <= now)
    return unblocked() & ~queue_busy() & due


def queue_busy() -> ColumnElement[bool]:
    """An operation of the same case and target is in flight (earlier or later in `seq`).

    Order alone does not exclude it: a Samspill operation waiting for the archive lets later
    Samspill work run, and when its wait ends one of those may still be in flight. Claiming
    beside it would violate the in-flight index and fail the whole claim.
    """
    o = operations
    busy = operations.alias("busy")
    return exists().where(
        busy.c.tenant == o.c.tenant,
        busy.c.case_id == o.c.case_id,
        busy.c.target == o.c.target,
        is_in(busy.c.state, _S.IN_FLIGHT.value),
    )


def unblocked() -> ColumnElement[bool]:
    """Waiting, and held by no earlier open operation of its case and target nor `waits_for`."""
    o = operations
    earlier = operations.alias("earlier")
    dep = operations.alias("dep")
    earlier_dep = operations.alias("earlier_dep")
    # A Samspill operation still waiting for its `waits_for` (a "minutes archived" log line
    # waiting for the archive) holds no later Samspill work but what ends the plan (close,
    # transfer: the line must land first): that queue never waits on the archive otherwise.
    # In the archive queue order carries meaning (close-case after the documents).
    earlier_waiting = (
        o.c.kind.not_in(ENDS_PLAN)
        & (earlier.c.target == Target.SAMSPILL.value)
        & is_in(earlier.c.state, _S.PENDING.value)
        & earlier.c.waits_for.is_not(None)
        & ~exists().where(
            earlier_dep.c.op_ref == earlier.c.waits_for, is_in(earlier_dep.c.state, *FINISHED)
        )
    )
    earlier_open = exists().where(
        earlier.c.tenant == o.c.tenant,
        earlier.c.case_id == o.c.case_id,
        earlier.c.target == o.c.target,
        earlier.c.id < o.c.id,
        is_not_in(earlier.c.state, *FINISHED),
        ~earlier_waiting,
    )
    dep_finished = exists().where(dep.c.op_ref == o.c.waits_for, is_in(dep.c.state, *FINISHED))
    waiting = is_in(o.c.state, *CLAIMABLE)
    return waiting & ~earlier_open & or_(o.c.waits_for.is_(None), dep_finished)
