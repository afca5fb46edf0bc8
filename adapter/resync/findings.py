"""What resync and reconcile say about one remote item: `Action`, `Finding`, `CaseDiff`,
the problem texts reconcile reports, and how desired and remote values compare."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from adapter.planning import CaseState, Operation, Target
from adapter.store.records import CaseRecord

__all__ = [
    "CLOSED_REMOTELY",
    "DIFFERENT",
    "DUPLICATE",
    "MISSING",
    "NOT_LINKED",
    "NOT_QUEUED",
    "UNKNOWN",
    "UNREADABLE",
    "Action",
    "CaseDiff",
    "Finding",
    "differing",
    "same",
]

MISSING = "missing remotely"
DIFFERENT = "different"
CLOSED_REMOTELY = "closed remotely but open here"
UNKNOWN = "unknown remote item carrying our reference"
NOT_LINKED = "not linked here"
NOT_QUEUED = "not in the outbox"
DUPLICATE = "more than one remote item carries our reference"
UNREADABLE = "remote unreadable"


class Action(StrEnum):
    """What resync does about one item."""

    CREATE = "create"
    UPDATE = "update"
    ADOPT = "adopt"
    UNCHANGED = "unchanged"
    REPORT = "report"


@dataclass(frozen=True)
class Finding:
    """One item's outcome. `problem` is what reconcile reports (None: not drift)."""

    target: Target
    kind: str
    item: str
    action: Action
    problem: str | None = None
    requeue: tuple[int, ...] = ()
    insert: tuple[Operation, ...] = ()
    link: str | None = None
    remote_id: str | None = None


@dataclass
class CaseDiff:
    """Every finding of one case; `seen` is when each operation to requeue was done, as the
    diff saw it (one done again since was replayed by someone else); `state` is the
    replayed planner state when the `stored` one differs from it (resync stores it over the
    stored version)."""

    tenant: str
    case_id: str
    findings: list[Finding] = field(default_factory=list)
    seen: dict[int, datetime | None] = field(default_factory=dict)
    state: CaseState | None = None
    stored: CaseRecord | None = None

    def count(self, action: Action) -> int:
        """How many findings have `action`."""
        return sum(1 for f in self.findings if f.action is action)

    @property
    def drift(self) -> list[Finding]:
        """The findings reconcile reports."""
        return [f for f in self.findings if f.problem is not None]

    @property
    def unreadable(self) -> bool:
        """True when a remote could not be read for this case."""
        return any(
            f.problem is not None and f.problem.startswith(UNREADABLE) for f in self.findings
        )


def _moment(value: Any) -> Any:
    if isinstance(value, str):
        try:
            if "T" in value:
                return datetime.fromisoformat(value)
            if len(value) == 10:
                return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def same(want: Any, have: Any) -> bool:
    """Equal as values: dates and moments parsed, lists in any order."""
    if isinstance(want, list) and isinstance(have, list):
        return sorted(map(repr, map(_moment, want))) == sorted(map(repr, map(_moment, have)))
    return bool(_moment(want) == _moment(have))


def differing(want: Mapping[str, Any], have: Mapping[str, Any]) -> list[str]:
    """The fields of `want` (but its reference) that `have` does not hold equally, sorted."""
    return sorted(
        k for k, v in want.items() if k != "externalReference" and not same(v, have.get(k))
    )
