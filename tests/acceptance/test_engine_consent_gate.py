"""The consent gate end to end: a service without consent never reaches Samspill.

A Modum case with a stafettlogg (consent C1 covers skole only) adds a barnevern participant,
a measure barnevern is responsible for, and a meeting naming that participant, then moves
the meeting. Asserted on the mock's request log and state: nothing of barnevern is sent
before consent C2 covers it; the meeting goes out without the participant and is moved;
C2 releases the held events (and the meeting then lists the participant); C2's withdrawal
removes the participant and a new barnevern participant waits again. In-process and over
a socket.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapter.events import Event
from adapter.store.states import EventState
from tests.support.engine import Engine, SharedClock, demo_settings, mock_for, open_engine
from tests.unit.planning.factory import Stream

CASE = "BTI-T-GATE"
SERVICE = "barnevern"


def _raw(events: list[Event]) -> list[dict[str, Any]]:
    return [e.model_dump(mode="json") for e in events]


def _plan(state: dict[str, Any]) -> dict[str, Any]:
    (plan,) = state["samspill"]["plans"]
    return dict(plan)


def _sent_mentioning_service(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r
        for r in state["requests"]
        if r["path"].startswith("/samspill/") and SERVICE in repr(r.get("body"))
    ]


async def _scenario(engine: Engine) -> None:
    s = Stream("modum", CASE)
    s.open(2, 1)
    s.consent("C1", ["skole"])
    s.step(2, 2)
    s.participant("P-bv", SERVICE)
    s.measure("T-bv", service=SERVICE)
    s.meeting("M1", "2026-06-01T10:00:00+02:00", participants=("stafettholder", "P-bv"))
    s.add(
        "meeting.rescheduled",
        {
            "meeting_id": "M1",
            "starts_at": "2026-06-03T10:00:00+02:00",
            "ends_at": "2026-06-03T11:00:00+02:00",
            "location": "Rådhuset",
        },
    )
    await engine.seed(_raw(s.events))
    report = await engine.drain()
    assert (report.operations_pending, report.parked_cases) == (0, 0)

    state = await engine.state()
    assert _sent_mentioning_service(state) == []
    plan = _plan(state)
    assert {p["affiliationId"] for p in plan["participants"]} == {None}  # the guardians only
    assert plan["measures"] == []
    (entry,) = plan["calendar"]
    assert (entry["participantIds"], entry["start"], entry["location"]) == (
        [],
        "2026-06-03T10:00:00+02:00",
        "Rådhuset",
    )
    held = await engine.rt.store.events.list_events(EventState.HELD)
    assert [(e.type, e.reason) for e in held] == [
        ("participant.added", f"no active consent covers service '{SERVICE}'"),
        ("measure.agreed", f"no active consent covers service '{SERVICE}'"),
    ]

    s.consent("C2", [SERVICE])
    await engine.seed(_raw(s.events[-1:]))
    await engine.drain()
    state = await engine.state()
    first_consent = next(
        i
        for i, r in enumerate(state["requests"])
        if r["path"].endswith("/consents") and SERVICE in repr(r.get("body"))
    )
    mentions = [state["requests"].index(r) for r in _sent_mentioning_service(state)]
    assert min(mentions) == first_consent  # the consent is the first to name the service
    plan = _plan(state)
    (worker,) = [p for p in plan["participants"] if p["affiliationId"] == SERVICE]
    (measure,) = plan["measures"]
    assert measure["responsibleAffiliationId"] == SERVICE
    (entry,) = plan["calendar"]
    assert entry["participantIds"] == [worker["id"]]
    assert await engine.rt.store.events.list_events(EventState.HELD) == []

    s.add("consent.withdrawn", {"consent_id": "C2"})
    s.participant("P-bv2", SERVICE)
    await engine.seed(_raw(s.events[-2:]))
    await engine.drain()
    plan = _plan(await engine.state())
    assert [p for p in plan["participants"] if p["affiliationId"] == SERVICE] == []
    assert {c["externalReference"].rsplit(":", 1)[1]: c["status"] for c in plan["consents"]} == {
        "C1": "active",
        "C2": "withdrawn",
    }
    (held,) = await engine.rt.store.events.list_events(EventState.HELD)
    assert held.type == "participant.added"


async def test_no_share_without_consent_in_process(tmp_path: Path) -> None:
    """In-process mock: the gate holds, releases and closes again as consents come and go."""
    clock = SharedClock()
    async with open_engine(
        demo_settings(tmp_path / "g.db"), app=mock_for(clock), clock=clock
    ) as engine:
        await _scenario(engine)


async def test_no_share_without_consent_over_a_socket(tmp_path: Path, mock_server: str) -> None:
    """The same against `stafett mock` on a real socket."""
    settings = demo_settings(tmp_path / "g.db", mock_url=mock_server)
    async with open_engine(settings, url=mock_server) as engine:
        await _scenario(engine)
