"""The Samspill client against respx routes: wire bodies, lookups, special outcomes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from adapter.errors import AmbiguousError, PermanentError, TransientError
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
    Payload,
    PersonRef,
    RemoveParticipant,
    TransferPlan,
    UpdateCalendar,
    UpdateConsent,
    UpdateGoal,
    UpdateMeasure,
    UpdateResponsibility,
)
from adapter.settings import DEFAULT_ACCESS_AREAS
from adapter.targets.auth import SamspillCredentials, TokenCache
from adapter.targets.samspill import SamspillClient

BASE = "https://samspill.example/samspill/api/v1"
TOKEN_URL = "https://connect.example/connect/token"
REF = "stafett:modum:BTI-2026-0042"
CHILD, LEAD_NIN, MOTHER, FATHER, COORD = (
    "03851650090",
    "07838510072",
    "11918010183",
    "15831450018",
    "22891250170",
)
IDS = {
    "plan:stafettlogg": "P1",
    "goal:G1": "GOAL1",
    "measure:M1": "MEAS1",
    "participant:skole": "PART1",
    "participant:ppt": "PART2",
    "consent:C1": "CONS1",
    "responsibility:R1": "RESP1",
    "meeting:K1": "CAL1",
    "lead": "lead",
}


@dataclass
class Env:
    """A Samspill client over a respx router; `tokens` counts token requests."""

    router: respx.MockRouter
    client: SamspillClient
    tokens: list[str]


@asynccontextmanager
async def _env(*, all_called: bool, clock: datetime | None = None) -> AsyncIterator[Env]:
    router = respx.MockRouter(assert_all_called=all_called, assert_all_mocked=True)
    issued: list[str] = []

    def issue(_request: httpx.Request) -> httpx.Response:
        issued.append(f"tok-{len(issued) + 1}")
        return httpx.Response(200, json={"access_token": issued[-1], "expires_in": 3600})

    router.post(TOKEN_URL).mock(side_effect=issue)
    creds = SamspillCredentials(
        tenant="modum",
        token_url=TOKEN_URL,
        client_id="stafett-modum",
        client_secret=SecretStr("modum-demo-secret"),
        tenant_id="6f1c2a4e-8d3b-4c1a-9e2f-0a1b2c3d4e01",
    )
    with router:
        async with httpx.AsyncClient(transport=httpx.MockTransport(router.handler)) as http:
            client = SamspillClient(
                http,
                TokenCache(http, creds, clock=lambda: 0.0),
                base_url=BASE + "/",
                clock=(lambda: clock) if clock is not None else lambda: datetime.now(UTC),
            )
            yield Env(router, client, issued)


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    """A client whose every route must be mocked and called, with a counting token route."""
    async with _env(all_called=True) as made:
        yield made


@pytest.fixture
async def idle_env() -> AsyncIterator[Env]:
    """The same client for tests that expect no request at all (nothing must be called)."""
    async with _env(all_called=False) as made:
        yield made
        assert not made.router.calls


def _body(route: respx.Route, index: int = -1) -> Any:
    return json.loads(route.calls[index].request.content)


def _plan_body(**extra: Any) -> dict[str, Any]:
    plan: dict[str, Any] = {
        "planId": "P1",
        "planTypeId": "stafettlogg",
        "status": "active",
        "closedReason": None,
        "transferredToPlanId": None,
        "participants": [],
        "consents": [],
        "goals": [],
        "measures": [],
        "responsibilities": [],
        "calendar": [],
        "log": [],
    }
    plan.update(extra)
    return plan


CREATE_PLAN = CreatePlan(
    organization_number="864965962",
    main_person=PersonRef(name="Synt Barn", nin=CHILD),
    lead=PersonRef(name="Synt Lærer", nin=LEAD_NIN),
    family=(
        FamilyMember(name="Synt Mor", nin=MOTHER, role="foresatt", link="guardian:1"),
        FamilyMember(name="Synt Far", nin=FATHER, role="foresatt", link="guardian:2"),
    ),
    affiliation="skole",
    external_reference=f"{REF}:plan:stafettlogg",
)


async def test_create_plan_sends_contract_body_and_links_guardians(env: Env) -> None:
    """create-plan posts the documented body and links guardians by nin from GET /plans/{id}."""
    post = env.router.post(f"{BASE}/plans").respond(
        201, json={"planId": "P1", "status": "active", "planTypeId": "stafettlogg"}
    )
    participants = [
        {"id": "X2", "name": "Synt Far", "nin": FATHER, "roleId": "foresatt"},
        {"id": "X1", "name": "Synt Mor", "nin": MOTHER, "roleId": "foresatt"},
    ]
    env.router.get(f"{BASE}/plans/P1").respond(200, json=_plan_body(participants=participants))
    result = await env.client.execute(OpKind.CREATE_PLAN, CREATE_PLAN, {}, op_ref="op-1")
    assert _body(post) == {
        "planTypeId": "stafettlogg",
        "organizationNumber": "864965962",
        "mainPerson": {"name": "Synt Barn", "nin": CHILD},
        "planLead": {"name": "Synt Lærer", "nin": LEAD_NIN},
        "participants": [
            {"name": "Synt Mor", "nin": MOTHER, "roleId": "foresatt", "accessAreas": []},
            {"name": "Synt Far", "nin": FATHER, "roleId": "foresatt", "accessAreas": []},
        ],
        "affiliationId": "skole",
        "externalReference": f"{REF}:plan:stafettlogg",
    }
    assert result.remote_id == "P1"
    assert dict(result.extra_links) == {"guardian:1": "X1", "guardian:2": "X2"}
    assert result.status == 201


async def test_every_request_carries_the_bearer_token(env: Env) -> None:
    """Each API call sends Authorization: Bearer with the cached token (fetched once)."""
    route = env.router.post(f"{BASE}/plans/P1/goals").respond(201, json={"id": "G"})
    goal = CreateGoal(plan_link="plan:stafettlogg", title="Trives", external_reference="r")
    await env.client.execute(OpKind.CREATE_GOAL, goal, IDS, op_ref="op")
    await env.client.execute(OpKind.CREATE_GOAL, goal, IDS, op_ref="op")
    assert [c.request.headers["Authorization"] for c in route.calls] == ["Bearer tok-1"] * 2
    assert env.tokens == ["tok-1"]


CREATES: list[tuple[OpKind, Payload, str, dict[str, Any]]] = [
    (
        OpKind.ADD_CONSENT,
        AddConsent(
            plan_link="plan:stafettlogg",
            given_by=(GivenBy(name="Synt Mor", nin=MOTHER, relation="mor"),),
            services=("skole", "ppt"),
            valid_from=date(2026, 3, 1),
            valid_to=date(2027, 3, 1),
            document_reference="DOC-1",
            external_reference=f"{REF}:consent:C1",
        ),
        "consents",
        {
            "givenBy": [{"name": "Synt Mor", "nin": MOTHER, "relation": "mor"}],
            "affiliationIds": ["skole", "ppt"],
            "validFrom": "2026-03-01",
            "validTo": "2027-03-01",
            "documentReference": "DOC-1",
            "externalReference": f"{REF}:consent:C1",
        },
    ),
    (
        OpKind.ADD_PARTICIPANT,
        AddParticipant(
            plan_link="plan:stafettlogg",
            name="Synt Rådgiver",
            role="deltaker",
            service="ppt",
            access_areas=("kalender", "logg"),
            external_reference=f"{REF}:participant:ppt",
        ),
        "participants",
        {
            "name": "Synt Rådgiver",
            "roleId": "deltaker",
            "affiliationId": "ppt",
            "accessAreas": ["kalender", "logg"],
            "externalReference": f"{REF}:participant:ppt",
        },
    ),
    (
        OpKind.ADD_PARTICIPANT,
        AddParticipant(
            plan_link="plan:stafettlogg",
            name="Synt Helsesykepleier",
            role="deltaker",
            service="helsestasjon",
            external_reference=f"{REF}:participant:hs",
        ),
        "participants",
        {
            "name": "Synt Helsesykepleier",
            "roleId": "deltaker",
            "affiliationId": "helsestasjon",
            "accessAreas": list(DEFAULT_ACCESS_AREAS),
            "externalReference": f"{REF}:participant:hs",
        },
    ),
    (
        OpKind.CREATE_GOAL,
        CreateGoal(
            plan_link="plan:stafettlogg",
            title="Trives på skolen",
            target_date=date(2026, 6, 20),
            external_reference=f"{REF}:goal:G1",
        ),
        "goals",
        {
            "title": "Trives på skolen",
            "targetDate": "2026-06-20",
            "status": "active",
            "externalReference": f"{REF}:goal:G1",
        },
    ),
    (
        OpKind.CREATE_MEASURE,
        CreateMeasure(
            plan_link="plan:stafettlogg",
            goal_link="goal:G1",
            title="Lesekurs",
            arena="skole",
            responsible_participant_link="participant:skole",
            responsible_service="skole",
            start_date=date(2026, 3, 2),
            end_date=date(2026, 5, 1),
            status="planned",
            external_reference=f"{REF}:measure:M1",
        ),
        "measures",
        {
            "goalId": "GOAL1",
            "title": "Lesekurs",
            "arena": "skole",
            "responsibleParticipantId": "PART1",
            "responsibleAffiliationId": "skole",
            "startDate": "2026-03-02",
            "endDate": "2026-05-01",
            "status": "planned",
            "externalReference": f"{REF}:measure:M1",
        },
    ),
    (
        OpKind.CREATE_RESPONSIBILITY,
        CreateResponsibility(
            plan_link="plan:stafettlogg",
            participant_link="participant:skole",
            task="Kalle inn",
            due_date=date(2026, 3, 9),
            external_reference=f"{REF}:responsibility:R1",
        ),
        "responsibilities",
        {
            "participantId": "PART1",
            "task": "Kalle inn",
            "dueDate": "2026-03-09",
            "status": "open",
            "externalReference": f"{REF}:responsibility:R1",
        },
    ),
    (
        OpKind.CREATE_RESPONSIBILITY,
        CreateResponsibility(
            plan_link="plan:stafettlogg",
            participant_link="lead",
            task="Oppsummere",
            external_reference=f"{REF}:responsibility:R2",
        ),
        "responsibilities",
        {
            "participantId": "lead",
            "task": "Oppsummere",
            "status": "open",
            "externalReference": f"{REF}:responsibility:R2",
        },
    ),
    (
        OpKind.CREATE_CALENDAR,
        CreateCalendar(
            plan_link="plan:stafettlogg",
            title="Samarbeidsmøte",
            kind="samarbeidsmote",
            start=datetime(2026, 3, 10, 9, 0, tzinfo=UTC),
            end=datetime(2026, 3, 10, 10, 0, tzinfo=UTC),
            location="Rom 2",
            participant_links=("participant:skole", "lead", "participant:ppt"),
            external_reference=f"{REF}:meeting:K1",
        ),
        "calendar",
        {
            "title": "Samarbeidsmøte",
            "kind": "samarbeidsmote",
            "start": "2026-03-10T09:00:00+00:00",
            "end": "2026-03-10T10:00:00+00:00",
            "location": "Rom 2",
            "participantIds": ["PART1", "PART2"],
            "status": "planned",
            "externalReference": f"{REF}:meeting:K1",
        },
    ),
    (
        OpKind.APPEND_LOG,
        AppendLog(
            plan_link="plan:stafettlogg",
            text="Samtale med foresatte.",
            author_name="Synt Lærer",
            occurred_at=datetime(2026, 3, 3, 14, 30, tzinfo=UTC),
            external_reference=f"{REF}:log:L1",
        ),
        "log",
        {
            "text": "Samtale med foresatte.",
            "authorName": "Synt Lærer",
            "occurredAt": "2026-03-03T14:30:00+00:00",
            "externalReference": f"{REF}:log:L1",
        },
    ),
]


@pytest.mark.parametrize(
    ("kind", "payload", "collection", "expected"),
    CREATES,
    ids=[f"{kind.value}-{i}" for i, (kind, *_rest) in enumerate(CREATES)],
)
async def test_item_creates_send_exactly_the_contract_body(
    env: Env, kind: OpKind, payload: Payload, collection: str, expected: dict[str, Any]
) -> None:
    """Each create posts the contract's camelCase body to its collection and returns the id."""
    route = env.router.post(f"{BASE}/plans/P1/{collection}").respond(201, json={"id": "NEW"})
    result = await env.client.execute(kind, payload, IDS, op_ref="op")
    assert _body(route) == expected
    assert result.remote_id == "NEW"
    assert result.status == 201


UPDATES: list[tuple[OpKind, Payload, str, dict[str, Any]]] = [
    (
        OpKind.UPDATE_CONSENT,
        UpdateConsent(plan_link="plan:stafettlogg", consent_link="consent:C1", status="withdrawn"),
        "consents/CONS1",
        {"status": "withdrawn"},
    ),
    (
        OpKind.UPDATE_GOAL,
        UpdateGoal(
            plan_link="plan:stafettlogg",
            goal_link="goal:G1",
            status="achieved",
            evaluation="Nådd",
        ),
        "goals/GOAL1",
        {"status": "achieved", "evaluation": "Nådd"},
    ),
    (
        OpKind.UPDATE_MEASURE,
        UpdateMeasure(
            plan_link="plan:stafettlogg",
            measure_link="measure:M1",
            end_date=date(2026, 4, 1),
            status="ended",
        ),
        "measures/MEAS1",
        {"endDate": "2026-04-01", "status": "ended"},
    ),
    (
        OpKind.UPDATE_RESPONSIBILITY,
        UpdateResponsibility(
            plan_link="plan:stafettlogg", responsibility_link="responsibility:R1", status="done"
        ),
        "responsibilities/RESP1",
        {"status": "done"},
    ),
    (
        OpKind.UPDATE_CALENDAR,
        UpdateCalendar(
            plan_link="plan:stafettlogg",
            entry_link="meeting:K1",
            start=datetime(2026, 3, 11, 9, 0, tzinfo=UTC),
            status="planned",
        ),
        "calendar/CAL1",
        {"start": "2026-03-11T09:00:00+00:00", "status": "planned"},
    ),
]


@pytest.mark.parametrize(
    ("kind", "payload", "path", "expected"), UPDATES, ids=[u[0].value for u in UPDATES]
)
async def test_updates_patch_only_the_given_fields(
    env: Env, kind: OpKind, payload: Payload, path: str, expected: dict[str, Any]
) -> None:
    """Each update PATCHes the item with exactly the fields the payload sets."""
    route = env.router.patch(f"{BASE}/plans/P1/{path}").respond(200, json={"id": "x"})
    result = await env.client.execute(kind, payload, IDS, op_ref="op")
    assert _body(route) == expected
    assert result.remote_id is None


async def test_change_lead_puts_the_new_lead(env: Env) -> None:
    """change-lead PUTs name and nin to /plans/{id}/lead."""
    route = env.router.put(f"{BASE}/plans/P1/lead").respond(200, json=_plan_body())
    lead = ChangeLead(plan_link="plan:stafettlogg", lead=PersonRef(name="Synt Ny", nin=COORD))
    await env.client.execute(OpKind.CHANGE_LEAD, lead, IDS, op_ref="op")
    assert _body(route) == {"name": "Synt Ny", "nin": COORD}


REMOVE = RemoveParticipant(plan_link="plan:stafettlogg", participant_link="participant:ppt")


async def test_remove_participant_deletes(env: Env) -> None:
    """remove-participant DELETEs the participant."""
    route = env.router.delete(f"{BASE}/plans/P1/participants/PART2").respond(204)
    result = await env.client.execute(OpKind.REMOVE_PARTICIPANT, REMOVE, IDS, op_ref="op")
    assert route.call_count == 1
    assert result.status == 204


async def test_remove_participant_404_counts_as_done(env: Env) -> None:
    """A 404 on the DELETE means already removed: success."""
    env.router.delete(f"{BASE}/plans/P1/participants/PART2").respond(
        404, json={"type": "item-not-found", "title": "Not found", "status": 404}
    )
    result = await env.client.execute(OpKind.REMOVE_PARTICIPANT, REMOVE, IDS, op_ref="op")
    assert result.status == 404


CLOSE = ClosePlan(plan_link="plan:stafettlogg", reason="goals-achieved")
_CLOSED_409 = {"type": "plan-closed", "title": "Conflict", "status": 409}


async def test_close_plan_posts_the_reason(env: Env) -> None:
    """close-plan posts the reason."""
    route = env.router.post(f"{BASE}/plans/P1/close").respond(200, json=_plan_body())
    await env.client.execute(OpKind.CLOSE_PLAN, CLOSE, IDS, op_ref="op")
    assert _body(route) == {"reason": "goals-achieved"}


async def test_close_of_plan_closed_with_same_reason_is_success(env: Env) -> None:
    """409 plan-closed when the plan is closed with the same reason counts as done."""
    env.router.post(f"{BASE}/plans/P1/close").respond(409, json=_CLOSED_409)
    env.router.get(f"{BASE}/plans/P1").respond(
        200, json=_plan_body(status="closed", closedReason="goals-achieved")
    )
    result = await env.client.execute(OpKind.CLOSE_PLAN, CLOSE, IDS, op_ref="op")
    assert result.status == 409


async def test_close_of_plan_closed_with_other_reason_is_permanent(env: Env) -> None:
    """409 plan-closed with a different closing reason is a permanent failure."""
    env.router.post(f"{BASE}/plans/P1/close").respond(409, json=_CLOSED_409)
    env.router.get(f"{BASE}/plans/P1").respond(
        200, json=_plan_body(status="closed", closedReason="transferred-to-ip")
    )
    with pytest.raises(PermanentError):
        await env.client.execute(OpKind.CLOSE_PLAN, CLOSE, IDS, op_ref="op")


TRANSFER = TransferPlan(
    plan_link="plan:stafettlogg",
    coordinator=PersonRef(name="Synt Koordinator", nin=COORD),
    external_reference=f"{REF}:plan:ip",
    adopt={"ip:goal:G1": f"{REF}:goal:G1", "ip:participant:ppt": f"{REF}:participant:ppt"},
)
_IP = _plan_body(
    planId="IP1",
    planTypeId="individuell-plan",
    goals=[{"id": "IG1", "externalReference": f"{REF}:goal:G1"}],
    participants=[{"id": "IPP", "externalReference": f"{REF}:participant:ppt"}],
)


async def test_transfer_posts_and_adopts_copied_items(env: Env) -> None:
    """transfer posts the contract body and links the IP's copies by externalReference."""
    route = env.router.post(f"{BASE}/plans/P1/transfer").respond(
        201, json={"planId": "IP1", "sourcePlanId": "P1"}
    )
    env.router.get(f"{BASE}/plans/IP1").respond(200, json=_IP)
    result = await env.client.execute(OpKind.TRANSFER_PLAN, TRANSFER, IDS, op_ref="op")
    assert _body(route) == {
        "targetPlanTypeId": "individuell-plan",
        "coordinator": {"name": "Synt Koordinator", "nin": COORD},
        "externalReference": f"{REF}:plan:ip",
    }
    assert result.remote_id == "IP1"
    assert dict(result.extra_links) == {"ip:goal:G1": "IG1", "ip:participant:ppt": "IPP"}


async def test_already_transferred_adopts_the_target_plan(env: Env) -> None:
    """409 already-transferred is success: the problem's transferredToPlanId is adopted."""
    env.router.post(f"{BASE}/plans/P1/transfer").respond(
        409,
        json={
            "type": "already-transferred",
            "title": "Conflict",
            "status": 409,
            "transferredToPlanId": "IP1",
        },
    )
    env.router.get(f"{BASE}/plans/IP1").respond(200, json=_IP)
    result = await env.client.execute(OpKind.TRANSFER_PLAN, TRANSFER, IDS, op_ref="op")
    assert result.remote_id == "IP1"
    assert result.extra_links["ip:goal:G1"] == "IG1"


async def test_consent_required_is_permanent_and_says_the_planner_should_hold(env: Env) -> None:
    """409 consent-required is a PermanentError explaining the planner should have held it."""
    env.router.post(f"{BASE}/plans/P1/participants").respond(
        409, json={"type": "consent-required", "title": "Conflict", "status": 409}
    )
    payload = CREATES[1][1]
    with pytest.raises(PermanentError) as caught:
        await env.client.execute(OpKind.ADD_PARTICIPANT, payload, IDS, op_ref="op-9")
    assert "consent-required" in str(caught.value)
    assert "held" in str(caught.value)
    assert caught.value.op_ref == "op-9"
    assert "Rådgiver" not in str(caught.value)


async def test_429_is_transient_with_retry_after(env: Env) -> None:
    """A 429 becomes a TransientError carrying the Retry-After seconds."""
    env.router.post(f"{BASE}/plans/P1/goals").respond(429, headers={"Retry-After": "4"})
    with pytest.raises(TransientError) as caught:
        await env.client.execute(OpKind.CREATE_GOAL, CREATES[3][1], IDS, op_ref="op")
    assert type(caught.value) is TransientError
    assert caught.value.retry_after == 4.0


async def test_an_http_date_retry_after_is_judged_on_the_clients_clock() -> None:
    """`Retry-After: <date>` two minutes after the (fake) now waits 120 s, not wall time."""
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    async with _env(all_called=True, clock=now) as made:
        made.router.post(f"{BASE}/plans/P1/goals").respond(
            429, headers={"Retry-After": "Mon, 02 Nov 2026 09:02:00 GMT"}
        )
        with pytest.raises(TransientError) as caught:
            await made.client.execute(OpKind.CREATE_GOAL, CREATES[3][1], IDS, op_ref="op")
    assert caught.value.retry_after == 120.0


async def test_5xx_and_read_timeout_on_create_are_ambiguous(env: Env) -> None:
    """A 5xx answer or a read timeout on a POST may have created the item: ambiguous."""
    env.router.post(f"{BASE}/plans/P1/goals").mock(
        side_effect=[httpx.Response(502), httpx.ReadTimeout("slow")]
    )
    for _ in range(2):
        with pytest.raises(AmbiguousError):
            await env.client.execute(OpKind.CREATE_GOAL, CREATES[3][1], IDS, op_ref="op")


async def test_401_renews_once_and_repeats_once(env: Env) -> None:
    """One 401 invalidates the token, fetches a new one and repeats the call once."""
    challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    route = env.router.post(f"{BASE}/plans/P1/goals").mock(
        side_effect=[httpx.Response(401, headers=challenge), httpx.Response(201, json={"id": "G"})]
    )
    result = await env.client.execute(OpKind.CREATE_GOAL, CREATES[3][1], IDS, op_ref="op")
    assert result.remote_id == "G"
    assert [c.request.headers["Authorization"] for c in route.calls] == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]


async def test_second_401_is_permanent(env: Env) -> None:
    """A 401 on the repeated call with a fresh token is a permanent error; no third try."""
    route = env.router.post(f"{BASE}/plans/P1/goals").respond(401)
    with pytest.raises(PermanentError) as caught:
        await env.client.execute(OpKind.CREATE_GOAL, CREATES[3][1], IDS, op_ref="op")
    assert route.call_count == 2
    assert len(env.tokens) == 2
    assert "tok-" not in str(caught.value)


async def test_lookup_finds_an_item_by_external_reference(env: Env) -> None:
    """lookup GETs the collection filtered by externalReference and adopts the match."""
    route = env.router.get(f"{BASE}/plans/P1/goals").respond(
        200, json={"items": [{"id": "G7", "externalReference": f"{REF}:goal:G1"}], "total": 1}
    )
    found = await env.client.lookup(OpKind.CREATE_GOAL, CREATES[3][1], IDS, op_ref="op")
    assert found is not None
    assert found.remote_id == "G7"
    assert route.calls[0].request.url.params["externalReference"] == f"{REF}:goal:G1"


async def test_lookup_returns_none_when_nothing_matches(env: Env) -> None:
    """lookup gives None when the filtered list is empty."""
    env.router.get(f"{BASE}/plans/P1/log").respond(200, json={"items": [], "total": 0})
    assert await env.client.lookup(OpKind.APPEND_LOG, CREATES[-1][1], IDS, op_ref="op") is None


async def test_lookup_of_a_plan_uses_the_plans_filter_and_links_guardians(env: Env) -> None:
    """A plan is looked up by GET /plans?externalReference= and its guardians are linked."""
    plan = _plan_body(
        externalReference=f"{REF}:plan:stafettlogg",
        participants=[
            {"id": "X1", "name": "Synt Mor", "nin": MOTHER, "roleId": "foresatt"},
            {"id": "X2", "name": "Synt Far", "nin": FATHER, "roleId": "foresatt"},
        ],
    )
    route = env.router.get(f"{BASE}/plans").respond(200, json={"items": [plan], "total": 1})
    found = await env.client.lookup(OpKind.CREATE_PLAN, CREATE_PLAN, {}, op_ref="op")
    assert found is not None
    assert found.remote_id == "P1"
    assert dict(found.extra_links) == {"guardian:1": "X1", "guardian:2": "X2"}
    assert route.calls[0].request.url.params["externalReference"] == f"{REF}:plan:stafettlogg"


async def test_lookup_of_a_transfer_reads_the_source_plan(env: Env) -> None:
    """A transfer is found through the source plan's transferredToPlanId."""
    env.router.get(f"{BASE}/plans/P1").respond(200, json=_plan_body(transferredToPlanId="IP1"))
    env.router.get(f"{BASE}/plans/IP1").respond(200, json=_IP)
    found = await env.client.lookup(OpKind.TRANSFER_PLAN, TRANSFER, IDS, op_ref="op")
    assert found is not None
    assert found.remote_id == "IP1"
    assert found.extra_links["ip:participant:ppt"] == "IPP"


async def test_lookup_of_an_update_has_nothing_to_find(idle_env: Env) -> None:
    """Updates are safe to repeat: lookup gives None without a request."""
    found = await idle_env.client.lookup(OpKind.UPDATE_GOAL, UPDATES[1][1], IDS, op_ref="op")
    assert found is None
    assert idle_env.tokens == []


async def test_p360_kinds_are_refused(idle_env: Env) -> None:
    """An archive operation sent to the Samspill client is a permanent error."""
    with pytest.raises(PermanentError):
        await idle_env.client.execute(OpKind.CLOSE_CASE, CLOSE, IDS, op_ref="op")


async def test_a_missing_resolved_id_is_permanent(idle_env: Env) -> None:
    """A link the dispatcher did not resolve is a permanent error naming the key."""
    with pytest.raises(PermanentError, match="goal:G1"):
        await idle_env.client.execute(
            OpKind.UPDATE_GOAL, UPDATES[1][1], {"plan:stafettlogg": "P1"}, op_ref="op"
        )


@pytest.mark.parametrize(
    "answer",
    [httpx.Response(201, text="not json"), httpx.Response(201, json={}), httpx.Response(200)],
)
async def test_a_create_answer_without_an_id_is_ambiguous(env: Env, answer: httpx.Response) -> None:
    """A 2xx to a create that names no id may still have created it: ambiguous, look up."""
    env.router.post(f"{BASE}/plans/P1/goals").mock(return_value=answer)
    with pytest.raises(AmbiguousError, match="without 'id'"):
        await env.client.execute(OpKind.CREATE_GOAL, CREATES[3][1], IDS, op_ref="op")
