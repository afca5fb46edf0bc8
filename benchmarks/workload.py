"""A synthetic BTI workload: N Modum cases of 25 events each, Tenor synthetic nins only.

Each case goes straight to level 2 with a consent, so every event after the plan's
creation becomes a remote call: the shape that loads the dispatcher.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["EVENTS_PER_CASE", "case_events", "synthetic_nin", "write_workload"]

EVENTS_PER_CASE = 25
_NS = uuid.UUID("6d1d64a6-3a55-4a1c-9a0b-1a2b3c4d5e6f")
_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def synthetic_nin(rng: random.Random, year: int) -> str:
    """A Tenor synthetic fødselsnummer (month + 80) with valid check digits."""
    while True:
        day, month = rng.randint(1, 28), rng.randint(1, 12) + 80
        individual = rng.randint(500, 749) if year >= 2000 else rng.randint(0, 499)
        base = f"{day:02}{month:02}{year % 100:02}{individual:03}"
        k1 = (11 - sum(w * int(d) for w, d in zip(_W1, base, strict=True)) % 11) % 11
        if k1 == 10:
            continue
        k2 = (11 - sum(w * int(d) for w, d in zip(_W2, base + str(k1), strict=True)) % 11) % 11
        if k2 == 10:
            continue
        return f"{base}{k1}{k2}"


def case_events(index: int, rng: random.Random) -> list[dict[str, Any]]:
    """The 25 events of one synthetic case."""
    case_id = f"BENCH-{index:06}"
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC) + timedelta(minutes=index)
    actor = {"name": "Saksbehandler", "service": "skole"}
    holder = {"name": "Stafett Holder", "nin": synthetic_nin(rng, 1985), "service": "skole"}
    seq = 0
    out: list[dict[str, Any]] = []

    def add(kind: str, data: dict[str, Any]) -> None:
        nonlocal seq
        seq += 1
        out.append(
            {
                "event_id": str(uuid.uuid5(_NS, f"{case_id}:{seq}")),
                "schema_version": 1,
                "tenant": "modum",
                "case_id": case_id,
                "sequence": seq,
                "occurred_at": (start + timedelta(minutes=seq)).isoformat(),
                "type": kind,
                "actor": actor,
                "data": data,
            }
        )

    guardian = {
        "name": "Foresatt Forelder",
        "nin": synthetic_nin(rng, 1984),
        "relation": "mor",
        "guardian_id": "G1",
    }
    add(
        "case.opened",
        {
            "child": {"name": "Barn Barnesen", "nin": synthetic_nin(rng, 2016)},
            "guardians": [guardian],
            "service": "skole",
            "level": 2,
            "step": 1,
            "stafettholder": holder,
        },
    )
    add(
        "consent.granted",
        {
            "consent_id": "C1",
            "given_by": [{k: guardian[k] for k in ("name", "nin", "relation")}],
            "services": ["skole", "ppt", "helsestasjon"],
            "valid_from": "2026-03-01",
            "valid_to": None,
        },
    )
    add("step.entered", {"level": 2, "step": 2})
    for p, service in enumerate(("ppt", "helsestasjon"), start=1):
        add(
            "participant.added",
            {
                "participant_id": f"P{p}",
                "name": "Fag Person",
                "nin": None,
                "role": "deltaker",
                "service": service,
            },
        )
    for g in range(1, 5):
        add("goal.set", {"goal_id": f"G{g}", "title": f"Mål nummer {g}"})
    for m in range(1, 5):
        add(
            "measure.agreed",
            {
                "measure_id": f"T{m}",
                "goal_id": f"G{m}",
                "title": f"Tiltak nummer {m}",
                "arena": "skole",
                "responsible_service": "skole",
                "start_date": "2026-03-02",
            },
        )
    for r in range(1, 3):
        add(
            "responsibility.assigned",
            {"responsibility_id": f"A{r}", "participant_id": f"P{r}", "task": "Følge opp"},
        )
    for n in range(1, 4):
        begins = start + timedelta(days=14 * n)
        add(
            "meeting.scheduled",
            {
                "meeting_id": f"M{n}",
                "kind": "nettverksmote",
                "starts_at": begins.isoformat(),
                "ends_at": (begins + timedelta(hours=1)).isoformat(),
                "participant_ids": ["stafettholder", "G1", "P1"],
            },
        )
    for n in range(1, 6):
        add("log.noted", {"note_id": f"N{n}", "text": f"Logglinje {n} i saken."})
    for g in range(1, 3):
        add("goal.updated", {"goal_id": f"G{g}", "title": f"Mål nummer {g} (justert)"})
    assert len(out) == EVENTS_PER_CASE
    return out


def _all(cases: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for index in range(cases):
        yield from case_events(index, rng)


def write_workload(path: Path, cases: int, seed: int = 1) -> int:
    """Write `cases` × 25 events as JSONL; returns the number of events."""
    n = 0
    with path.open("w", encoding="utf-8") as handle:
        for event in _all(cases, seed):
            handle.write(json.dumps(event, ensure_ascii=False) + "\n")
            n += 1
    return n
