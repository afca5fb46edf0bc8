"""What a target client returns, and the protocol every target client implements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from adapter.planning.operations import OpKind
from adapter.planning.payloads import Payload

__all__ = ["Result", "TargetClient"]


@dataclass(frozen=True)
class Result:
    """The outcome of one operation on a remote system.

    - `remote_id`: the id of the item created or adopted (recorded under the operation's
      `link`), or None when the operation creates nothing (updates, deletes).
    - `extra_links`: further links-table keys → remote ids learnt on the way (the
      guardians' participant ids after creating a plan; the IP and its copied items after a
      transfer).
    - `status`: the HTTP status of the call that settled it, for the record.
    """

    remote_id: str | None = None
    extra_links: Mapping[str, str] = field(default_factory=dict)
    status: int | None = None


class TargetClient(Protocol):
    """A remote system as the dispatcher sees it.

    `ids` maps every `*_link` key the payload names to its remote id (resolved by the
    dispatcher from the links table). Errors are `adapter.errors` TransientError,
    AmbiguousError or PermanentError.
    """

    async def execute(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result:
        """Perform the operation once."""
        ...

    async def lookup(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result | None:
        """Find the effect of an earlier attempt (by `op_ref`); None when there is none."""
        ...
