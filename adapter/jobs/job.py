"""`Job`: one piece of the engine's periodic work, the same for the service and `run --once`.

The service's scheduler fires `run` as the tick with the job's `name` (its fixed id in
`adapter.scheduler.JOB_IDS`); a `singleton` job runs on one replica at a time (a PostgreSQL
advisory lock), the others are turns of this process that never overlap. `run --once` runs
the same jobs in its own order until nothing is due. A job holds the `Runtime` it works on;
`run` returns what it did.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

__all__ = ["Job"]

R_co = TypeVar("R_co", covariant=True)


class Job(Protocol[R_co]):
    """One periodic piece of work."""

    name: str
    """The fixed id: the scheduler's job id and its `{name}_interval_s` setting."""

    singleton: bool
    """Whether one replica at a time runs it (reconcile, deadlines, expiry, retention)."""

    async def run(self) -> R_co:
        """Do the work once; what it did."""
        ...
