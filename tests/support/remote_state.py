"""Compare what the remote systems hold, ignoring the ids they assigned."""

from __future__ import annotations

from collections import Counter
from typing import Any

_ID_KEYS = frozenset(
    {
        "id",
        "planId",
        "transferredToPlanId",
        "transferredFromPlanId",
        "goalId",
        "responsibleParticipantId",
        "participantId",
        "participantIds",
        "Recno",
        "CaseNumber",
        "DocumentNumber",
        "createdAt",
        "updatedAt",
    }
)
_COLLECTIONS = (
    "participants",
    "consents",
    "goals",
    "measures",
    "responsibilities",
    "calendar",
    "log",
)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in sorted(value.items()) if k not in _ID_KEYS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _key(item: Any) -> str:
    return repr(_strip(item))


def normalize(state: dict[str, Any]) -> dict[str, Any]:
    """The remote state without remote ids, every list sorted: equal means the same content."""
    plans = {}
    for plan in state["samspill"]["plans"]:
        stripped = _strip({k: v for k, v in plan.items() if k not in _COLLECTIONS})
        for name in _COLLECTIONS:
            stripped[name] = sorted((_strip(i) for i in plan.get(name) or []), key=repr)
        plans[plan.get("externalReference") or repr(stripped)] = stripped
    p360 = state["p360"]
    return {
        "plans": plans,
        "cases": sorted((_strip(c) for c in p360["cases"]), key=repr),
        "documents": sorted((_strip(d) for d in p360["documents"]), key=repr),
        "persons": sorted((_strip(p) for p in p360["persons"]), key=repr),
    }


def duplicates(state: dict[str, Any]) -> list[str]:
    """External references (and archive remarks) that occur more than once: items made twice."""
    refs: Counter[str] = Counter()
    for plan in state["samspill"]["plans"]:
        refs[f"plan {plan.get('externalReference')}"] += 1
        for name in _COLLECTIONS:
            for item in plan.get(name) or []:
                ref = item.get("externalReference")
                if ref:
                    # family members made in the create-plan body share the plan's reference
                    who = (
                        f" {item.get('roleId')} {item.get('name')}"
                        if name == "participants"
                        else ""
                    )
                    refs[f"{plan.get('planTypeId')} {name} {ref}{who}"] += 1
    for case in state["p360"]["cases"]:
        refs[f"case {(case.get('ExternalId') or {}).get('Id')}"] += 1
    for doc in state["p360"]["documents"]:
        for remark in doc.get("Remarks") or []:
            refs[f"document {remark.get('Content')}"] += 1
    return sorted(ref for ref, n in refs.items() if n > 1)


_SIF_WRITES = ("/Create", "/Update", "/Synchronize", "/SignOff")


def is_write(method: str, path: str) -> bool:
    """A write as mock-and-cli.md defines it (Samspill changes; SIF Create/Update/…)."""
    samspill = path.startswith("/samspill/") and method in {"POST", "PUT", "PATCH", "DELETE"}
    sif = "/SI.Data.RPC/" in path and any(w in path for w in _SIF_WRITES)
    return samspill or sif
