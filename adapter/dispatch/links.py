"""The dispatcher's link cache: a payload's link keys resolved to remote ids.

A pass keeps the links it learnt (its own completions) or read once from the store, per
(tenant, case, target), for the most recently used cases only, so memory stays flat however
long the backlog a pass drains. The cache lives for one pass: a link re-pointed elsewhere
(resync) is read again by the next.
"""

from __future__ import annotations

from collections import OrderedDict

from adapter.errors import PermanentError
from adapter.planning.links import LEAD_LINK
from adapter.planning.payloads import Payload
from adapter.store.ports import Links
from adapter.store.records import StoredOperation
from adapter.store.states import Target
from adapter.targets.result import Result

__all__ = ["LINK_CACHE_CASES", "LinkCache", "link_keys"]

LINK_CACHE_CASES = 256
"""Cases whose links a pass keeps at most (least recently used go first): a few times the
cases in flight."""

_Scope = tuple[str, str, Target]


def link_keys(payload: Payload) -> list[str]:
    """Every links-table key a payload names (`*_link` fields and `*_links` tuples)."""
    keys: list[str] = []
    for name, value in payload:
        if name.endswith("_link") and isinstance(value, str):
            keys.append(value)
        elif name.endswith("_links") and isinstance(value, tuple):
            keys.extend(v for v in value if isinstance(v, str))
    return keys


class LinkCache:
    """The links of the most recently used cases of one pass, read through to `links`."""

    def __init__(self, links: Links, *, cases: int | None = None) -> None:
        self._store = links
        self._bound = LINK_CACHE_CASES if cases is None else cases
        self._known: OrderedDict[_Scope, dict[str, str]] = OrderedDict()

    def __len__(self) -> int:
        """Cases whose links are kept now."""
        return len(self._known)

    async def resolve(self, op: StoredOperation, payload: Payload) -> dict[str, str]:
        """The remote id of every link key `payload` names; `PermanentError` when one has
        none (the operation that creates it has not succeeded)."""
        keys = [k for k in link_keys(payload) if k != LEAD_LINK]
        scope = (op.tenant, op.case_id, op.target)
        cached = self._known.get(scope, {})
        missing = [k for k in keys if k not in cached]
        if missing:
            fetched = await self._store.get_links(op.tenant, op.case_id, op.target, missing)
            cached = {**cached, **fetched}  # what it knew before the read may be evicted now
        self._keep(scope, cached)
        found: dict[str, str] = {}
        for key in keys:
            if key not in cached:
                raise PermanentError(
                    f"no remote id for {key!r}: the operation that creates it has not "
                    "succeeded (skipped or parked)",
                    op_ref=op.op_ref,
                )
            found[key] = cached[key]
        if LEAD_LINK in link_keys(payload):
            found[LEAD_LINK] = LEAD_LINK
        return found

    def remember(self, op: StoredOperation, result: Result) -> None:
        """Keep the links a completed operation recorded, for later operations of its case."""
        learnt = dict(result.extra_links)
        if result.remote_id is not None and op.link is not None:
            learnt[op.link] = result.remote_id
        if learnt:
            scope = (op.tenant, op.case_id, op.target)
            self._keep(scope, {**self._known.get(scope, {}), **learnt})

    def _keep(self, scope: _Scope, known: dict[str, str]) -> None:
        """Keep `known` as the scope's links, most recently used; evict beyond the bound."""
        if not known:
            return
        self._known[scope] = known
        self._known.move_to_end(scope)
        while len(self._known) > self._bound:
            self._known.popitem(last=False)
