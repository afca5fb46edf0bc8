"""Around the transfer: held for the coordinator's consent, closing a case, the one baton."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

from typer.testing import CliRunner

from adapter.cli import app
from adapter.store.states import EventState
from tests.integration.test_transfer_saga import Saga, saga, vardo_example
from tests.support.stored_events import DEMO_CONFIG, store_events
from tests.unit.planning.factory import HOLDER_NIN, OTHER_NIN, Stream, synthetic_nin, with_plan

__all__ = ["saga"]  # the fixture, shared with the saga tests

NEW_HOLDER_NIN = synthetic_nin(date(2005, 6, 1))


def _plans(state: dict[str, Any], case_id: str) -> dict[str, dict[str, Any]]:
    return {
        p["planTypeId"]: p
        for p in state["samspill"]["plans"]
        if str(p["externalReference"]).split(":")[2] == case_id
    }


async def _held_cli(saga: Saga) -> list[dict[str, Any]]:
    result = await asyncio.to_thread(
        CliRunner().invoke,
        app,
        ["--config", str(DEMO_CONFIG), "events", "held", "--json"],
        env={"STAFETT_DATABASE_URL": saga.settings.database_url},
    )
    assert result.exit_code == 0, result.output
    events: list[dict[str, Any]] = json.loads(result.stdout)["events"]
    return events


async def test_transfer_waits_for_the_coordinators_consent_then_completes(saga: Saga) -> None:
    """Without a consent for the coordinator's service ip.granted is held (with the reason),
    and the later events with it; the consent releases them and the transfer completes."""
    s = with_plan("vardo", case_id="BS-T-HOLD")
    s.goal("G1")
    s.ip("helsestasjon")
    s.goal("G2")
    await store_events(saga.store, saga.settings, s.events)
    rt = await saga.runtime("first")
    await saga.drain(rt)
    held = await saga.store.events.list_events(EventState.HELD)
    assert [e.type for e in held] == ["ip.granted", "goal.set"]
    assert "helsestasjon" in (held[0].reason or "")
    if saga.store.backend == "sqlite":  # the CLI reads the settings' database
        shown = await _held_cli(saga)
        assert [(e["type"], e["reason"]) for e in shown] == [(e.type, e.reason) for e in held]
    assert set(_plans(await saga.remote(), "BS-T-HOLD")) == {"stafettlogg"}

    s.consent("C2", ["helsestasjon"])
    await store_events(saga.store, saga.settings, s.events[-1:])
    await saga.drain(rt)
    await rt.http.aclose()
    assert await saga.store.events.list_events(EventState.HELD) == []
    state = await saga.remote()
    plans = _plans(state, "BS-T-HOLD")
    assert plans["stafettlogg"]["closedReason"] == "transferred-to-ip"
    ip = plans["individuell-plan"]
    assert ip["planLead"]["nin"] == OTHER_NIN
    assert {g["externalReference"].rsplit(":", 1)[1] for g in ip["goals"]} == {"G1", "G2"}
    summaries = [d for d in state["p360"]["documents"] if d["Title"].startswith("Sluttrapport")]
    assert len(summaries) == 1


async def test_case_closed_closes_the_stafettlogg_then_the_archive_case(saga: Saga) -> None:
    """guardian-request closes the plan with that reason, the archive case (Status A) after
    its last document; an event after closing is rejected with a clear reason."""
    s = with_plan("modum", case_id="BTI-T-CLOSE")
    s.meeting("M1", "2026-03-10T10:00:00+01:00")
    minutes = next(e for e in vardo_example() if e["type"] == "meeting.held")["data"]["minutes"]
    s.add("meeting.held", {"meeting_id": "M1", "minutes": minutes}, at="2026-03-10T11:30:00+01:00")
    s.add("case.closed", {"reason": "guardian-request"})
    late = s.goal("G9")
    await store_events(saga.store, saga.settings, s.events)
    rt = await saga.runtime("first")
    report = await saga.drain(rt)
    await rt.http.aclose()
    assert report.operations_pending == 0 and report.parked_cases == 0
    state = await saga.remote()
    plan = _plans(state, "BTI-T-CLOSE")["stafettlogg"]
    assert (plan["status"], plan["closedReason"]) == ("closed", "guardian-request")
    assert "G9" not in json.dumps(plan["goals"])
    [case] = state["p360"]["cases"]
    assert case["Status"] == "A"
    sif = [r["path"].rsplit("/", 1)[1] for r in state["requests"] if "SI.Data.RPC" in r["path"]]
    assert sif.index("UpdateCase") > max(i for i, p in enumerate(sif) if p == "CreateDocument")
    [rejected] = await saga.store.events.list_events(EventState.REJECTED)
    assert rejected.event_id == str(late.event_id)
    assert "closed" in (rejected.reason or "")


async def test_case_closed_after_the_transfer_closes_the_ip(saga: Saga) -> None:
    """The whole Vardø example: no-further-follow-up closes the IP as `other`, then the case."""
    await saga.feed(vardo_example())
    rt = await saga.runtime("first")
    await saga.drain(rt)
    await rt.http.aclose()
    state = await saga.remote()
    plans = _plans(state, "BS-2026-0007")
    assert plans["stafettlogg"]["closedReason"] == "transferred-to-ip"
    assert (plans["individuell-plan"]["status"], plans["individuell-plan"]["closedReason"]) == (
        "closed",
        "other",
    )
    assert [c["Status"] for c in state["p360"]["cases"]] == ["A"]


def _change(s: Stream, *, accepted: bool, service: str = "ppt") -> None:
    s.add(
        "stafettholder.changed",
        {
            "name": "Ny Holder Test",
            "nin": NEW_HOLDER_NIN,
            "service": service,
            "accepted_at": "2026-03-20T09:00:00+01:00" if accepted else None,
        },
    )


async def test_the_baton_moves_only_when_accepted_and_never_in_an_ip(saga: Saga) -> None:
    """Unaccepted: the plan lead stays; accepted: it moves; in an IP the coordinator stays lead."""
    s = with_plan("modum", case_id="BTI-T-LEAD")
    s.consent("C2", ["ppt"])
    _change(s, accepted=False)
    await store_events(saga.store, saga.settings, s.events)
    rt = await saga.runtime("first")
    await saga.drain(rt)
    lead = _plans(await saga.remote(), "BTI-T-LEAD")["stafettlogg"]["planLead"]
    assert lead["nin"] == HOLDER_NIN
    _change(s, accepted=True)
    await store_events(saga.store, saga.settings, s.events[-1:])
    await saga.drain(rt)
    lead = _plans(await saga.remote(), "BTI-T-LEAD")["stafettlogg"]["planLead"]
    assert lead["nin"] == NEW_HOLDER_NIN

    s.ip("ppt")
    _change(s, accepted=True, service="skole")
    await store_events(saga.store, saga.settings, s.events[-2:])
    await saga.drain(rt)
    await rt.http.aclose()
    plans = _plans(await saga.remote(), "BTI-T-LEAD")
    assert plans["individuell-plan"]["planLead"]["nin"] == OTHER_NIN  # the coordinator
    assert plans["stafettlogg"]["planLead"]["nin"] == NEW_HOLDER_NIN
    puts = [r for r in (await saga.remote())["requests"] if r["method"] == "PUT"]
    assert len(puts) == 1
