"""Small builders for planner tests: synthetic people, event streams, tenant rules."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from stdnum.no import fodselsnummer

from adapter.events import Event, validation_context
from adapter.planning import CaseState, Operation, OpKind, PlanningRules, PlanResult, plan_events
from adapter.profiles import get_profile

ORG = "964950768"
TENANTS = ("modum", "vardo")
_NS = uuid.UUID("6f1c1d8e-0000-4000-8000-000000000001")


def synthetic_nin(born: date, first_individual: int = 512) -> str:
    """A Tenor synthetic nin (month + 80) with valid check digits for `born` (2000–2039)."""
    for individual in range(first_individual, 1000):
        base = f"{born.day:02d}{born.month + 80:02d}{born.year % 100:02d}{individual:03d}"
        first = fodselsnummer.calc_check_digit1(base)
        if len(first) != 1:
            continue
        second = fodselsnummer.calc_check_digit2(base + first)
        if len(second) == 1:
            return base + first + second
    raise AssertionError("no check digits found")


CHILD_BORN = date(2012, 5, 14)
CHILD_NIN = synthetic_nin(CHILD_BORN)
MOTHER_NIN = synthetic_nin(date(2001, 3, 2))
FATHER_NIN = synthetic_nin(date(2002, 7, 23))
HOLDER_NIN = synthetic_nin(date(2003, 1, 7))
OTHER_NIN = synthetic_nin(date(2004, 11, 19))

PDF = b"%PDF-1.4\n% minimal\n%%EOF\n"


def rules_for(tenant: str, **changes: Any) -> PlanningRules:
    """The planning rules of a seed tenant (its profile's plan step)."""
    profile = get_profile(tenant)
    values: dict[str, Any] = {
        "tenant": tenant,
        "organization_number": ORG,
        "profile": profile,
        "plan_step": profile.create_plan_at,
    }
    values.update(changes)
    return PlanningRules(**values)


def pre_plan_step(tenant: str) -> tuple[int, int]:
    """A level > 0 step just before the tenant's plan step."""
    return {"modum": (2, 1), "vardo": (0, 4)}[tenant]


class Stream:
    """One case's events, numbered in order; `at` defaults to one minute after the last."""

    def __init__(self, tenant: str = "modum", case_id: str = "BTI-T-1"):
        self.tenant = tenant
        self.case_id = case_id
        self.events: list[Event] = []
        self.clock = datetime.fromisoformat("2026-03-02T10:00:00+01:00")

    def add(self, type_: str, data: dict[str, Any], *, at: str | None = None) -> Event:
        """Append an event of `type_` with `data`."""
        self.clock = (
            datetime.fromisoformat(at) if at is not None else self.clock + timedelta(minutes=1)
        )
        sequence = len(self.events) + 1
        raw = {
            "event_id": str(uuid.uuid5(_NS, f"{self.tenant}:{self.case_id}:{sequence}")),
            "schema_version": 1,
            "tenant": self.tenant,
            "case_id": self.case_id,
            "sequence": sequence,
            "occurred_at": self.clock.isoformat(),
            "type": type_,
            "actor": {"name": "Kari Testansatt", "service": "skole"},
            "data": data,
        }
        event = Event.model_validate(raw, context=validation_context(accept_synthetic_nin=True))
        self.events.append(event)
        return event

    # --- common events -----------------------------------------------------------------

    def open(self, level: int = 0, step: int = 1, *, service: str = "skole") -> Event:
        """case.opened with a child, two guardians (one with an id) and a stafettholder."""
        return self.add(
            "case.opened",
            {
                "child": {"name": "Ola Nordmann Test", "nin": CHILD_NIN},
                "guardians": [
                    {
                        "name": "Mor Test",
                        "nin": MOTHER_NIN,
                        "relation": "mor",
                        "guardian_id": "G-mor",
                    },
                    {"name": "Far Test", "nin": FATHER_NIN, "relation": "far"},
                ],
                "service": service,
                "level": level,
                "step": step,
                "stafettholder": {"name": "Holder Test", "nin": HOLDER_NIN, "service": service},
            },
        )

    def step(self, level: int, step: int, *, at: str | None = None) -> Event:
        """step.entered."""
        return self.add("step.entered", {"level": level, "step": step}, at=at)

    def consent(
        self,
        consent_id: str,
        services: Sequence[str],
        *,
        valid_from: str = "2026-01-01",
        valid_to: str | None = None,
        relation: str = "mor",
        at: str | None = None,
    ) -> Event:
        """consent.granted by the mother (or the child with relation `barnet`)."""
        nin = CHILD_NIN if relation == "barnet" else MOTHER_NIN
        return self.add(
            "consent.granted",
            {
                "consent_id": consent_id,
                "given_by": [{"name": "Giver Test", "nin": nin, "relation": relation}],
                "services": list(services),
                "valid_from": valid_from,
                "valid_to": valid_to,
            },
            at=at,
        )

    def participant(self, participant_id: str, service: str, *, at: str | None = None) -> Event:
        """participant.added (deltaker)."""
        return self.add(
            "participant.added",
            {
                "participant_id": participant_id,
                "name": f"Deltaker {participant_id}",
                "nin": None,
                "role": "deltaker",
                "service": service,
            },
            at=at,
        )

    def goal(self, goal_id: str, *, at: str | None = None) -> Event:
        """goal.set."""
        return self.add("goal.set", {"goal_id": goal_id, "title": f"Mål {goal_id}"}, at=at)

    def measure(
        self,
        measure_id: str,
        *,
        service: str | None = None,
        participant: str | None = None,
        start: str = "2026-03-01",
        end: str | None = None,
        at: str | None = None,
    ) -> Event:
        """measure.agreed with a responsible service or participant."""
        data: dict[str, Any] = {
            "measure_id": measure_id,
            "title": f"Tiltak {measure_id}",
            "arena": "skole",
            "start_date": start,
            "end_date": end,
        }
        if participant is not None:
            data["responsible_participant_id"] = participant
        else:
            data["responsible_service"] = service or "skole"
        return self.add("measure.agreed", data, at=at)

    def meeting(
        self,
        meeting_id: str,
        starts_at: str,
        *,
        kind: str = "nettverksmote",
        participants: Sequence[str] = ("stafettholder",),
        at: str | None = None,
    ) -> Event:
        """meeting.scheduled for one hour."""
        start = datetime.fromisoformat(starts_at)
        return self.add(
            "meeting.scheduled",
            {
                "meeting_id": meeting_id,
                "kind": kind,
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=1)).isoformat(),
                "participant_ids": list(participants),
            },
            at=at,
        )

    def held(self, meeting_id: str, *, at: str | None = None) -> Event:
        """meeting.held with small inline minutes."""
        return self.add(
            "meeting.held",
            {
                "meeting_id": meeting_id,
                "minutes": {
                    "content_base64": base64.b64encode(PDF).decode(),
                    "filename": "referat.pdf",
                    "media_type": "application/pdf",
                    "sha256": hashlib.sha256(PDF).hexdigest(),
                    "title": f"Referat {meeting_id} for Ola Nordmann Test",
                },
            },
            at=at,
        )

    def decision(
        self, outcome: str, *, next_due: str | None = None, at: str | None = None
    ) -> Event:
        """decision.recorded."""
        return self.add(
            "decision.recorded", {"outcome": outcome, "next_meeting_due": next_due}, at=at
        )

    def ip(self, service: str, *, at: str | None = None) -> Event:
        """ip.granted with a coordinator from `service`."""
        return self.add(
            "ip.granted",
            {
                "coordinator": {"name": "Koordinator Test", "nin": OTHER_NIN, "service": service},
                "decided_at": "2026-03-01T09:00:00+01:00",
            },
            at=at,
        )


def with_plan(tenant: str, **stream: Any) -> Stream:
    """A case opened at level 0, consent C1 to skole, then the tenant's plan step."""
    s = Stream(tenant, **stream)
    s.open()
    s.consent("C1", ["skole"])
    s.step(*get_profile(tenant).create_plan_at)
    return s


def run(
    events: Sequence[Event], tenant: str = "modum", state: CaseState | None = None, **rules: Any
) -> PlanResult:
    """plan_events with the tenant's rules."""
    return plan_events(state, events, rules_for(tenant, **rules))


def ops_of(result: PlanResult, kind: OpKind) -> list[Operation]:
    """The operations of one kind, in order."""
    return [op for op in result.operations if op.kind is kind]


def tail(op: Operation) -> str:
    """The op_ref after tenant and case: ``goal:G1#7``."""
    return op.op_ref.split(":", 3)[3]


def decisions_by_seq(result: PlanResult) -> dict[int, tuple[str, str | None]]:
    """sequence -> (outcome, reason) of the last decision for it."""
    return {d.sequence: (d.outcome.value, d.reason) for d in result.decisions}
