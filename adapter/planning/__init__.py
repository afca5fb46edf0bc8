"""The pure planner: every BTI rule, from a case's events to remote operations, no I/O."""

from __future__ import annotations

from adapter.planning.operations import Operation, OpKind, Target
from adapter.planning.planner import EventDecision, Outcome, PlanResult, plan_events, replay
from adapter.planning.rules.deadlines import DeadlineStatus, deadline_for
from adapter.planning.rules.tenant import PlanningRules
from adapter.planning.state import CaseState

__all__ = [
    "CaseState",
    "DeadlineStatus",
    "EventDecision",
    "OpKind",
    "Operation",
    "Outcome",
    "PlanResult",
    "PlanningRules",
    "Target",
    "deadline_for",
    "plan_events",
    "replay",
]
