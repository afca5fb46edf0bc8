"""`Remote`: a target client for dispatcher tests, answering from a script."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from adapter.planning.operations import OpKind
from adapter.planning.payloads import Payload
from adapter.targets.result import Result

__all__ = ["Remote"]


@dataclass
class Remote:
    """A target answering per op_ref from a script (default: created); it records calls."""

    script: dict[str, list[Result | Exception]] = field(default_factory=dict)
    existing: dict[str, Result] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    async def execute(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result:
        self.calls.append(("execute", op_ref))
        await asyncio.sleep(0)  # let the other calls of the pass interleave
        answers = self.script.get(op_ref) or []
        answer = answers.pop(0) if answers else Result(remote_id=f"R-{op_ref}")
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def lookup(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result | None:
        self.calls.append(("lookup", op_ref))
        return self.existing.get(op_ref)

    def sent(self) -> list[str]:
        """The op_refs executed, in order."""
        return [ref for what, ref in self.calls if what == "execute"]
