"""`CASE` on the command line: `TENANT/CASE_ID`, or a bare `CASE_ID` only one tenant has."""

from __future__ import annotations

from adapter.errors import RejectedInput
from adapter.settings import Settings
from adapter.store.records import CaseKey
from adapter.store.store import Store

__all__ = ["resolve_case"]


async def resolve_case(store: Store, settings: Settings, arg: str) -> CaseKey:
    """The case an operator named; `RejectedInput` (exit 2) when it is unknown or ambiguous."""
    if "/" in arg:
        tenant, _, case_id = arg.partition("/")
        if tenant not in settings.tenants:
            raise RejectedInput(f"unknown tenant {tenant!r} in {arg!r}", field="CASE")
        return CaseKey(tenant=tenant, case_id=case_id)
    owners = [
        key
        for key in sorted(settings.tenants)
        if await store.events.events_for_case(key, arg, include_rejected=True)
    ]
    if not owners:
        raise RejectedInput(f"no case {arg!r} in any tenant", field="CASE")
    if len(owners) > 1:
        raise RejectedInput(
            f"case {arg!r} exists in {', '.join(owners)}: name it as TENANT/{arg}", field="CASE"
        )
    return CaseKey(tenant=owners[0], case_id=arg)
