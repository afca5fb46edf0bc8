"""The Samspill client against the in-process mock: a whole plan, faults, lookup, transfer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from adapter.errors import AmbiguousError, PermanentError
from adapter.planning.operations import OpKind
from adapter.planning.payloads import (
    AddConsent,
    AddParticipant,
    AppendLog,
    ChangeLead,
    ClosePlan,
    CreateCalendar,
    CreateGoal,
    CreateMeasure,
    CreatePlan,
    CreateResponsibility,
    FamilyMember,
    GivenBy,
    PersonRef,
    RemoveParticipant,
    TransferPlan,
    UpdateConsent,
    UpdateGoal,
)
from adapter.targets.auth import SamspillCredentials, TokenCache
from adapter.targets.samspill import SamspillClient
from tests.unit.test_mock_support import MODUM, FakeClock, bearer

BASE = "http://mock/samspill/api/v1"
REF = "stafett:modum:BTI-2026-0042"
CHILD, LEAD_NIN, MOTHER, FATHER, COORD = (
    "03851650090",
    "07838510072",
    "11918010183",
    "15831450018",
    "22891250170",
)
PLAN = "plan:stafettlogg"


@dataclass
class Harness:
    """The client under test, the raw HTTP client, and what went over the wire."""

    client: SamspillClient
    http: httpx.AsyncClient
    peek: httpx.AsyncClient
    clock: FakeClock
    sent: list[tuple[str, str, int]] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=lambda: {"lead": "lead"})

    def count(self, method: str, path: str, status: int | None = None) -> int:
        """How many requests matched (optionally only those answered with `status`)."""
        return sum(
            1
            for m, p, s in self.sent
            if m == method and p == path and (status is None or s == status)
        )

    async def plan(self, plan_id: str) -> dict[str, Any]:
        """The whole plan as the mock holds it (read aside, not recorded in `sent`)."""
        token = (
            await self.peek.post(
                "/connect/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": MODUM.client_id,
                    "client_secret": MODUM.client_secret,
                    "tenant_id": MODUM.tenant_id,
                },
            )
        ).json()["access_token"]
        response = await self.peek.get(f"{BASE}/plans/{plan_id}", headers=bearer(token))
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body

    async def fault(self, rule: dict[str, Any]) -> None:
        """Install one fault rule in the mock."""
        assert (await self.peek.post("/_mock/faults", json=rule)).status_code in (200, 201)


@pytest.fixture
async def harness(mock_app: FastAPI, mock_clock: FakeClock) -> AsyncIterator[Harness]:
    """A SamspillClient for the Modum demo tenant over the in-process mock."""
    sent: list[tuple[str, str, int]] = []

    async def record(response: httpx.Response) -> None:
        request = response.request
        sent.append((request.method, request.url.path, response.status_code))

    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=mock_app),
            base_url="http://mock",
            event_hooks={"response": [record]},
        ) as http,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=mock_app), base_url="http://mock"
        ) as peek,
    ):
        creds = SamspillCredentials(
            tenant="modum",
            token_url="http://mock/connect/token",
            client_id=MODUM.client_id,
            client_secret=SecretStr(MODUM.client_secret),
            tenant_id=MODUM.tenant_id,
        )
        tokens = TokenCache(http, creds, clock=mock_clock)
        client = SamspillClient(http, tokens, base_url=BASE)
        yield Harness(client, http, peek, mock_clock, sent)


CREATE_PLAN = CreatePlan(
    organization_number=MODUM.organization_number,
    main_person=PersonRef(name="Synt Barn", nin=CHILD),
    lead=PersonRef(name="Synt Lærer", nin=LEAD_NIN),
    family=(
        FamilyMember(name="Synt Mor", nin=MOTHER, role="foresatt", link="guardian:1"),
        FamilyMember(name="Synt Far", nin=FATHER, role="foresatt", link="guardian:2"),
    ),
    affiliation="skole",
    external_reference=f"{REF}:plan:stafettlogg",
)
CONSENT = AddConsent(
    plan_link=PLAN,
    given_by=(GivenBy(name="Synt Mor", nin=MOTHER, relation="mor"),),
    services=("skole", "ppt"),
    valid_from=date(2026, 3, 1),
    external_reference=f"{REF}:consent:C1",
)
PPT = AddParticipant(
    plan_link=PLAN,
    name="Synt Rådgiver",
    role="deltaker",
    service="ppt",
    external_reference=f"{REF}:participant:ppt",
)
GOAL = CreateGoal(plan_link=PLAN, title="Trives på skolen", external_reference=f"{REF}:goal:G1")


async def _run(h: Harness, kind: OpKind, payload: Any, link: str | None = None) -> str | None:
    result = await h.client.execute(kind, payload, h.ids, op_ref=f"op:{kind.value}")
    h.ids.update(result.extra_links)
    if link is not None and result.remote_id is not None:
        h.ids[link] = result.remote_id
    return result.remote_id


async def _plan_with_consent(h: Harness) -> str:
    plan_id = await _run(h, OpKind.CREATE_PLAN, CREATE_PLAN, PLAN)
    assert plan_id is not None
    await _run(h, OpKind.ADD_CONSENT, CONSENT, "consent:C1")
    return plan_id


async def test_a_whole_plan_is_built_item_by_item(harness: Harness) -> None:
    """A plan with guardians, consent, participant, goal, measure, duties, meeting and log."""
    h = harness
    plan_id = await _plan_with_consent(h)
    await _run(h, OpKind.ADD_PARTICIPANT, PPT, "participant:ppt")
    await _run(h, OpKind.CREATE_GOAL, GOAL, "goal:G1")
    measure = CreateMeasure(
        plan_link=PLAN,
        goal_link="goal:G1",
        title="Lesekurs",
        arena="skole",
        responsible_participant_link="participant:ppt",
        responsible_service="ppt",
        start_date=date(2026, 3, 2),
        status="active",
        external_reference=f"{REF}:measure:M1",
    )
    await _run(h, OpKind.CREATE_MEASURE, measure, "measure:M1")
    duty = CreateResponsibility(
        plan_link=PLAN, participant_link="lead", task="Kalle inn", external_reference=f"{REF}:r:1"
    )
    await _run(h, OpKind.CREATE_RESPONSIBILITY, duty, "responsibility:R1")
    meeting = CreateCalendar(
        plan_link=PLAN,
        title="Samarbeidsmøte",
        kind="samarbeidsmote",
        start=datetime(2026, 3, 10, 9, tzinfo=UTC),
        end=datetime(2026, 3, 10, 10, tzinfo=UTC),
        participant_links=("lead", "participant:ppt", "guardian:1"),
        external_reference=f"{REF}:meeting:K1",
    )
    await _run(h, OpKind.CREATE_CALENDAR, meeting, "meeting:K1")
    note = AppendLog(
        plan_link=PLAN,
        text="Første samtale.",
        author_name="Synt Lærer",
        occurred_at=datetime(2026, 3, 3, 14, tzinfo=UTC),
        external_reference=f"{REF}:log:L1",
    )
    await _run(h, OpKind.APPEND_LOG, note, "log:L1")
    update = UpdateGoal(plan_link=PLAN, goal_link="goal:G1", evaluation="God start")
    await _run(h, OpKind.UPDATE_GOAL, update)
    lead = ChangeLead(plan_link=PLAN, lead=PersonRef(name="Synt Ny", nin=COORD))
    await _run(h, OpKind.CHANGE_LEAD, lead)

    plan = await h.plan(plan_id)
    guardians = {p["id"]: p["nin"] for p in plan["participants"] if p["roleId"] == "foresatt"}
    assert guardians == {h.ids["guardian:1"]: MOTHER, h.ids["guardian:2"]: FATHER}
    assert [c["id"] for c in plan["consents"]] == [h.ids["consent:C1"]]
    assert [g["evaluation"] for g in plan["goals"]] == ["God start"]
    assert plan["measures"][0]["goalId"] == h.ids["goal:G1"]
    assert plan["measures"][0]["responsibleParticipantId"] == h.ids["participant:ppt"]
    assert plan["responsibilities"][0]["participantId"] == "lead"
    assert plan["calendar"][0]["participantIds"] == [h.ids["participant:ppt"], h.ids["guardian:1"]]
    assert [entry["id"] for entry in plan["log"]] == [h.ids["log:L1"]]
    assert plan["planLead"]["nin"] == COORD
    assert h.count("POST", "/connect/token") == 1


async def test_commit_then_fail_is_ambiguous_and_lookup_finds_the_item(harness: Harness) -> None:
    """A goal stored before a 504 is ambiguous; lookup adopts it and no second goal is made."""
    h = harness
    plan_id = await _plan_with_consent(h)
    await h.fault(
        {
            "match": {"method": "POST", "path": "/goals$"},
            "action": {"commit_then_fail": 504},
            "times": 1,
        }
    )
    with pytest.raises(AmbiguousError):
        await h.client.execute(OpKind.CREATE_GOAL, GOAL, h.ids, op_ref="op:goal")
    found = await h.client.lookup(OpKind.CREATE_GOAL, GOAL, h.ids, op_ref="op:goal")
    assert found is not None
    goals = (await h.plan(plan_id))["goals"]
    assert [g["id"] for g in goals] == [found.remote_id]


async def test_lookup_of_a_plan_after_commit_then_fail(harness: Harness) -> None:
    """A plan created before a 502 is found by its externalReference, guardians linked."""
    h = harness
    await h.fault(
        {
            "match": {"method": "POST", "path": "/plans$"},
            "action": {"commit_then_fail": 502},
            "times": 1,
        }
    )
    with pytest.raises(AmbiguousError):
        await h.client.execute(OpKind.CREATE_PLAN, CREATE_PLAN, {}, op_ref="op:plan")
    found = await h.client.lookup(OpKind.CREATE_PLAN, CREATE_PLAN, {}, op_ref="op:plan")
    assert found is not None
    assert found.remote_id is not None
    assert set(found.extra_links) == {"guardian:1", "guardian:2"}
    missing = await h.client.lookup(OpKind.CREATE_GOAL, GOAL, {PLAN: found.remote_id}, op_ref="x")
    assert missing is None


async def test_transfer_then_already_transferred_adopts_the_same_plan(harness: Harness) -> None:
    """A transfer links the IP and its copies; repeating it adopts the same IP."""
    h = harness
    source = await _plan_with_consent(h)
    await _run(h, OpKind.ADD_PARTICIPANT, PPT, "participant:ppt")
    await _run(h, OpKind.CREATE_GOAL, GOAL, "goal:G1")
    transfer = TransferPlan(
        plan_link=PLAN,
        coordinator=PersonRef(name="Synt Koordinator", nin=COORD),
        external_reference=f"{REF}:plan:ip",
        adopt={
            "ip:goal:G1": GOAL.external_reference,
            "ip:participant:ppt": PPT.external_reference,
            "ip:consent:C1": CONSENT.external_reference,
        },
    )
    first = await h.client.execute(OpKind.TRANSFER_PLAN, transfer, h.ids, op_ref="op:t")
    assert first.remote_id is not None
    ip = await h.plan(first.remote_id)
    assert ip["planTypeId"] == "individuell-plan"
    assert first.extra_links == {
        "ip:goal:G1": ip["goals"][0]["id"],
        "ip:participant:ppt": next(
            p["id"] for p in ip["participants"] if p["externalReference"] == PPT.external_reference
        ),
        "ip:consent:C1": ip["consents"][0]["id"],
    }
    again = await h.client.execute(OpKind.TRANSFER_PLAN, transfer, h.ids, op_ref="op:t")
    assert again.remote_id == first.remote_id
    assert again.extra_links == first.extra_links
    assert again.status == 409
    looked = await h.client.lookup(OpKind.TRANSFER_PLAN, transfer, h.ids, op_ref="op:t")
    assert looked is not None
    assert looked.remote_id == first.remote_id
    assert (await h.plan(source))["closedReason"] == "transferred-to-ip"


async def test_expired_token_is_renewed_once(harness: Harness) -> None:
    """An expire_token fault gives one 401; the client renews once and the call succeeds."""
    h = harness
    plan_id = await _plan_with_consent(h)
    await h.fault({"match": {"path": "/goals$"}, "action": {"expire_token": True}, "times": 1})
    goal_id = await _run(h, OpKind.CREATE_GOAL, GOAL, "goal:G1")
    assert [g["id"] for g in (await h.plan(plan_id))["goals"]] == [goal_id]
    path = f"/samspill/api/v1/plans/{plan_id}/goals"
    assert h.count("POST", path, 401) == 1
    assert h.count("POST", path, 201) == 1
    assert h.count("POST", "/connect/token") == 2


async def test_token_is_renewed_before_it_expires(harness: Harness) -> None:
    """After nearly an hour on the shared clock, the cache renews before the mock refuses."""
    h = harness
    await _plan_with_consent(h)
    h.clock.advance(3590)
    await _run(h, OpKind.CREATE_GOAL, GOAL, "goal:G1")
    assert not any(status == 401 for _m, _p, status in h.sent)
    assert h.count("POST", "/connect/token") == 2


async def test_idempotent_outcomes_against_the_mock(harness: Harness) -> None:
    """Closing twice with one reason and removing a participant twice both succeed."""
    h = harness
    plan_id = await _plan_with_consent(h)
    await _run(h, OpKind.ADD_PARTICIPANT, PPT, "participant:ppt")
    remove = RemoveParticipant(plan_link=PLAN, participant_link="participant:ppt")
    assert (
        await h.client.execute(OpKind.REMOVE_PARTICIPANT, remove, h.ids, op_ref="r")
    ).status == 204
    assert (
        await h.client.execute(OpKind.REMOVE_PARTICIPANT, remove, h.ids, op_ref="r")
    ).status == 404
    close = ClosePlan(plan_link=PLAN, reason="goals-achieved")
    assert (await h.client.execute(OpKind.CLOSE_PLAN, close, h.ids, op_ref="c")).status == 200
    assert (await h.client.execute(OpKind.CLOSE_PLAN, close, h.ids, op_ref="c")).status == 409
    other = ClosePlan(plan_link=PLAN, reason="other")
    with pytest.raises(PermanentError):
        await h.client.execute(OpKind.CLOSE_PLAN, other, h.ids, op_ref="c2")
    assert (await h.plan(plan_id))["closedReason"] == "goals-achieved"


async def test_consent_required_and_withdrawal(harness: Harness) -> None:
    """Without covering consent the mock's 409 is permanent; withdrawing a consent patches it."""
    h = harness
    plan_id = await _plan_with_consent(h)
    health = PPT.model_copy(update={"service": "helsestasjon", "external_reference": "r:hs"})
    with pytest.raises(PermanentError, match="consent-required"):
        await h.client.execute(OpKind.ADD_PARTICIPANT, health, h.ids, op_ref="op:hs")
    withdraw = UpdateConsent(plan_link=PLAN, consent_link="consent:C1", status="withdrawn")
    await _run(h, OpKind.UPDATE_CONSENT, withdraw)
    assert [c["status"] for c in (await h.plan(plan_id))["consents"]] == ["withdrawn"]
