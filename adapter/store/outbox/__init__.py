"""The outbox: adding operations, claiming them in order per case and target, recording results.

One repository, `OperationsRepo` (`store.outbox`), in three modules by concern: `claims`
(the dispatcher's turn: claim and record successes in one synchronous transaction),
`transitions` (every other state change) and `queries` (reads and counts); `conditions`
holds the SQL of the rules below, which they share.

Order rules, enforced by `claim_operations`:

- Operations of one (tenant, case_id, target) run one at a time in `seq` (= id) order: an
  operation is claimable only when every earlier one of its case and target is `done` or
  `skipped`. So an `in_flight`, `unknown`, backing-off `pending` or `parked` operation
  holds the later ones of its case and target — and nothing else: other targets of the
  same case, and other cases, flow on.
- `waits_for` names the `op_ref` of another operation (usually of the other target) that
  must be `done` or `skipped` first; an unknown `op_ref` waits forever (a planner bug
  that shows up as a stuck operation, never as a wrong order). A Samspill operation that
  waits so holds no later Samspill operation of its case but one that ends the plan
  (close, transfer), so the Samspill queue waits on the archive only to finish a plan; in
  the archive queue it holds the later ones like any open operation.
- A case and target with an operation in flight gets no second one claimed, whatever their
  order (a waiting Samspill operation freed while later work of its queue runs waits).
  The unique index on (tenant, case_id, target) WHERE state = 'in_flight' is the guard
  behind the query: two claimers can never hold two operations of one case and target; a
  claim that loses that race retries row by row, so the other cases are still claimed.

A claim takes a lease (`lease_owner`, `leased_until`). Results are recorded only by the
lease holder (the methods return `False` otherwise: the lease was lost and someone else
owns the operation now). `release_expired_leases` turns operations whose lease ran out
into `unknown` with `may_exist` set, since the lost attempt may have reached the remote:
the next claimer must look the item up by `op_ref` before creating it again.
"""

from __future__ import annotations

from adapter.store.outbox.claims import Claims
from adapter.store.outbox.queries import Queries
from adapter.store.outbox.transitions import (
    Transitions,
    add_operations_tx,
    requeue_operations_tx,
)
from adapter.store.records import Completion

__all__ = ["Completion", "OperationsRepo", "add_operations_tx", "requeue_operations_tx"]


class OperationsRepo(Claims, Transitions, Queries):
    """The outbox and its claim/lease protocol (see the module docstring)."""
