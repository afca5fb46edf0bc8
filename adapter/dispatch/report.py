"""`DispatchReport`: what one dispatcher pass did."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DispatchReport"]


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
