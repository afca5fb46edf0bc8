"""A clock that moves only when told to (stores, dispatchers and jobs take it as `clock`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

__all__ = ["T0", "FakeClock"]

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    """A clock that moves only when told to."""

    now: datetime = field(default=T0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now
