"""Facts the adapter names in several places are defined once and imported everywhere else.

The mock is left out: it plays the remote and keeps its own copy of the remote's contract,
so a mistake in the adapter's definition cannot hide behind a mock that shares it.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from adapter.planning.links import LEAD_LINK
from adapter.planning.rules.tenant import PlanningRules
from adapter.settings import DEFAULT_ACCESS_AREAS, AccessArea, SamspillConfig

ADAPTER = Path(__file__).resolve().parents[2] / "adapter"


def _defining(pattern: str) -> list[str]:
    found = re.compile(pattern)
    return [
        path.relative_to(ADAPTER).as_posix()
        for path in sorted(ADAPTER.rglob("*.py"))
        if "mock" not in path.relative_to(ADAPTER).parts
        and found.search(path.read_text(encoding="utf-8"))
    ]


def test_the_default_access_areas_are_defined_once() -> None:
    """Every access area by default, named in settings only; the planner's default and the
    configuration's default are the same areas."""
    assert _defining(r"[\"']mal-og-tiltak[\"']") == ["settings/tenant.py"]
    assert tuple(a.value for a in AccessArea) == DEFAULT_ACCESS_AREAS
    planner_default = {f.name: f.default for f in fields(PlanningRules)}["access_areas"]
    assert planner_default == DEFAULT_ACCESS_AREAS
    default = SamspillConfig.model_fields["access_areas"].default
    assert tuple(str(a) for a in default) == DEFAULT_ACCESS_AREAS


def test_the_lead_key_is_defined_once() -> None:
    """The links key of the plan lead is assigned in one module and imported elsewhere."""
    assert _defining(r"=\s*[\"']lead[\"']") == ["planning/links.py"]
    assert LEAD_LINK == "lead"  # the value the dispatcher, planner and targets share
