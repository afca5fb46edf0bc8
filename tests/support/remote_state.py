"""Compare what the remote systems hold, ignoring the ids they assigned."""

from __future__ import annotations

from collections import Counter
from typing import Any

_ID_KEYS = frozenset(
    {"id", "planId", "Recno", "CaseNumber", "DocumentNumber", "createdAt", "updatedAt"}
)
"""Ids the remotes assign: dropped (the item is known by its reference instead)."""
_ITEM_IDS = frozenset({"goalId", "responsibleParticipantId", "participantId", "participantIds"})
"""Fields naming another item of the same plan: its id becomes that item's name."""
_PLAN_IDS = frozenset({"transferredToPlanId", "transferredFromPlanId"})
"""Fields naming another plan: its id becomes that plan's reference."""
_COLLECTIONS = (
    "participants",
    "consents",
    "goals",
    "measures",
    "responsibilities",
    "calendar",
    "log",
)
_GONE = "<no such item>"


def _item_name(collection: str, item: dict[str, Any]) -> str:
    """What identifies an item across a rebuild: its reference (a family member shares the
    plan's, so role and name are added)."""
    ref = str(item.get("externalReference"))
    if collection == "participants":
        return f"{ref} {item.get('roleId')} {item.get('name')}"
    return ref


def _strip(value: Any, names: dict[str, str]) -> Any:
    """`value` without assigned ids; a field naming another item names it by `names`."""
    if isinstance(value, dict):
        out = {}
        for key, inner in sorted(value.items()):
            if key in _ID_KEYS:
                continue
            if key in _ITEM_IDS or key in _PLAN_IDS:
                out[key] = _named(inner, names)
            else:
                out[key] = _strip(inner, names)
        return out
    if isinstance(value, list):
        return [_strip(v, names) for v in value]
    return value


def _named(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, list):
        return sorted(names.get(str(v), _GONE) for v in value)
    return None if value is None else names.get(str(value), _GONE)


def normalize(state: dict[str, Any]) -> dict[str, Any]:
    """The remote state without remote ids, every list sorted: equal means the same content.

    An id that names another item (a measure's goal, a meeting's participants, the plan an
    IP was transferred from, a document's archive case) is replaced by that item's reference,
    so an item re-created pointing at a dead or wrong item does not compare equal.
    """
    plan_names = {
        str(p["planId"]): f"plan {p.get('externalReference')}" for p in state["samspill"]["plans"]
    }
    plans = {}
    for plan in state["samspill"]["plans"]:
        names = dict(plan_names)
        for name in _COLLECTIONS:
            names.update({str(i["id"]): _item_name(name, i) for i in plan.get(name) or []})
        stripped = _strip({k: v for k, v in plan.items() if k not in _COLLECTIONS}, names)
        for name in _COLLECTIONS:
            stripped[name] = sorted((_strip(i, names) for i in plan.get(name) or []), key=repr)
        plans[plan.get("externalReference") or repr(stripped)] = stripped
    p360 = state["p360"]
    cases = {str(c["CaseNumber"]): (c.get("ExternalId") or {}).get("Id") for c in p360["cases"]}
    documents = [
        {**_strip(d, {}), "case": cases.get(str(d.get("CaseNumber")), _GONE)}
        for d in p360["documents"]
    ]
    return {
        "plans": plans,
        "cases": sorted((_strip(c, {}) for c in p360["cases"]), key=repr),
        "documents": sorted(documents, key=repr),
        "persons": sorted((_strip(p, {}) for p in p360["persons"]), key=repr),
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
