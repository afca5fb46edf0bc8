"""The dispatch job: expired leases taken over, then a dispatcher pass over what is due."""

from __future__ import annotations

from adapter.dispatch.report import DispatchReport
from adapter.wiring.runtime import Runtime

__all__ = ["Dispatch"]


class Dispatch:
    """The `dispatch` job. It keeps one dispatcher, so `stop` ends the pass in progress
    (no new claims; running operations finish or keep their lease)."""

    name = "dispatch"
    singleton = False

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._dispatcher = rt.dispatcher()

    async def run(self) -> DispatchReport:
        """Take over expired leases, then run the due operations."""
        await self.take_over_expired()
        return await self.run_pass()

    async def take_over_expired(self) -> list[str]:
        """In-flight operations whose lease ran out become `unknown` (looked up before a
        re-create); their op_refs."""
        return await self._rt.store.outbox.release_expired_leases(self._rt.clock())

    async def run_pass(self) -> DispatchReport:
        """One dispatcher pass: claim and run until nothing is due now."""
        return await self._dispatcher.run_pass()

    def stop(self) -> None:
        """Claim nothing more."""
        self._dispatcher.stop()
