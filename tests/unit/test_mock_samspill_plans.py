"""The Samspill mock: metadata, creating, finding, closing, leading and transferring plans."""

from __future__ import annotations

import httpx
import pytest

from tests.unit.test_mock_samspill_support import (
    API,
    BAD_NIN,
    CHILD_NIN,
    COORDINATOR_NIN,
    add,
    consent_body,
    create_plan,
    error_fields,
    goal_body,
    measure_body,
    participant_body,
    plan_body,
    ref,
    responsibility_body,
)
from tests.unit.test_mock_support import VARDO, bearer, samspill_token

pytest_plugins = ["tests.conftest_mock"]


@pytest.fixture
async def token(mock_client: httpx.AsyncClient) -> str:
    """A modum token."""
    return await samspill_token(mock_client)


@pytest.mark.parametrize(
    ("path", "key", "names"),
    [
        (
            "plantypes",
            "individuell-plan",
            ("Individuell plan", "Individuell plan", "Individual plan"),
        ),
        ("roles", "foresatt", ("Foresatt", "Føresett", "Guardian")),
        ("affiliations", "skole", ("Skole", "Skule", "School")),
    ],
)
async def test_metadata_in_each_language(
    mock_client: httpx.AsyncClient, token: str, path: str, key: str, names: tuple[str, ...]
) -> None:
    """Each metadata list answers in nb, nn and en with the names of that language."""
    for lang, name in zip(("nb", "nn", "en"), names, strict=True):
        response = await mock_client.get(
            f"{API}/{path}", params={"lang": lang}, headers=bearer(token)
        )
        assert response.status_code == 200
        assert {"id": key, "name": name} in response.json()


async def test_metadata_seeds(mock_client: httpx.AsyncClient, token: str) -> None:
    """The seeds are the contract's plan types, roles and the service keys."""
    ids = {}
    for path in ("plantypes", "roles", "affiliations"):
        response = await mock_client.get(f"{API}/{path}", headers=bearer(token))
        ids[path] = {item["id"] for item in response.json()}
    assert ids["plantypes"] == {"stafettlogg", "individuell-plan"}
    assert ids["roles"] == {"stafettholder", "koordinator", "foresatt", "barn", "deltaker", "leder"}
    assert {"skole", "barnehage", "helsestasjon", "barnevern", "annet"} <= ids["affiliations"]


async def test_unknown_language_is_400(mock_client: httpx.AsyncClient, token: str) -> None:
    """Any lang but nb, nn, en → 400 problem."""
    response = await mock_client.get(f"{API}/roles?lang=de", headers=bearer(token))
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_created_plan_reads_back_whole(mock_client: httpx.AsyncClient, token: str) -> None:
    """POST /plans → 201 active; GET returns the whole plan with its family participant."""
    response = await mock_client.post(f"{API}/plans", json=plan_body(), headers=bearer(token))
    assert response.status_code == 201
    created = response.json()
    assert created["status"] == "active"
    assert created["planTypeId"] == "stafettlogg"
    plan = (await mock_client.get(f"{API}/plans/{created['planId']}", headers=bearer(token))).json()
    assert plan["planId"] == created["planId"]
    assert plan["mainPerson"] == {"name": "Test Barn", "nin": CHILD_NIN}
    assert plan["closedReason"] is None
    assert plan["transferredToPlanId"] is None
    assert plan["externalReference"] == ref("plan", "stafettlogg")
    assert [p["roleId"] for p in plan["participants"]] == ["foresatt"]
    assert plan["participants"][0]["affiliationId"] is None
    for collection in ("consents", "goals", "measures", "responsibilities", "calendar", "log"):
        assert plan[collection] == []


async def test_unknown_and_missing_fields_are_listed(
    mock_client: httpx.AsyncClient, token: str
) -> None:
    """An unknown field and a missing one → 422 problem naming each field."""
    body = plan_body(colour="blue")
    del body["planLead"]
    response = await mock_client.post(f"{API}/plans", json=body, headers=bearer(token))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "validation-error"
    assert error_fields(response) == {"colour", "planLead"}


async def test_bad_nin_is_422_without_echoing_it(
    mock_client: httpx.AsyncClient, token: str
) -> None:
    """A nin with a wrong check digit → 422 on its field; the number is not in the answer."""
    body = plan_body(mainPerson={"name": "Test Barn", "nin": BAD_NIN})
    response = await mock_client.post(f"{API}/plans", json=body, headers=bearer(token))
    assert response.status_code == 422
    assert error_fields(response) == {"mainPerson.nin"}
    assert BAD_NIN not in response.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"organizationNumber": VARDO.organization_number}, "organizationNumber"),
        ({"organizationNumber": "864965963"}, "organizationNumber"),
        ({"planTypeId": "iop"}, "planTypeId"),
        ({"affiliationId": "kirke"}, "affiliationId"),
        (
            {"participants": [{"name": "X", "nin": CHILD_NIN, "roleId": "onkel"}]},
            "participants.0.roleId",
        ),
        (
            {"participants": [{"name": "X", "roleId": "foresatt", "affiliationId": "skole"}]},
            "participants.0.affiliationId",
        ),
        ({"participants": [{"name": "X", "roleId": "deltaker"}]}, "participants.0.affiliationId"),
        ({"externalReference": "x" * 256}, "externalReference"),
    ],
)
async def test_create_plan_rules(
    mock_client: httpx.AsyncClient, token: str, changes: dict[str, object], field: str
) -> None:
    """Another tenant's or invalid org number, unknown ids, family/affiliation rule → 422."""
    response = await mock_client.post(
        f"{API}/plans", json=plan_body(**changes), headers=bearer(token)
    )
    assert response.status_code == 422
    assert response.json()["type"] == "validation-error"
    assert error_fields(response) == {field}


async def test_service_participant_in_create_body_is_422_consent_required(
    mock_client: httpx.AsyncClient, token: str
) -> None:
    """A participant with an affiliation in the create body → 422 `consent-required`."""
    participants = [{"name": "X", "roleId": "deltaker", "affiliationId": "skole"}]
    response = await mock_client.post(
        f"{API}/plans", json=plan_body(participants=participants), headers=bearer(token)
    )
    assert response.status_code == 422
    assert response.json()["type"] == "consent-required"
    assert error_fields(response) == {"participants.0.affiliationId"}


async def test_plans_belong_to_their_tenant(mock_client: httpx.AsyncClient, token: str) -> None:
    """Another tenant's token gets 404 for the plan and does not list it."""
    plan_id = await create_plan(mock_client, token)
    vardo = await samspill_token(mock_client, VARDO)
    assert (
        await mock_client.get(f"{API}/plans/{plan_id}", headers=bearer(vardo))
    ).status_code == 404
    listed = await mock_client.get(f"{API}/plans", headers=bearer(vardo))
    assert listed.json() == {"items": [], "total": 0}


async def test_find_plans_by_external_reference_with_paging(
    mock_client: httpx.AsyncClient, token: str
) -> None:
    """`externalReference` filters; `limit`/`offset` page; `total` counts every match."""
    wanted = [await create_plan(mock_client, token, externalReference="A") for _ in range(3)]
    await create_plan(mock_client, token, externalReference="B")
    response = await mock_client.get(
        f"{API}/plans",
        params={"externalReference": "A", "limit": 2, "offset": 1},
        headers=bearer(token),
    )
    assert response.json()["total"] == 3
    assert [p["planId"] for p in response.json()["items"]] == wanted[1:3]
    everything = await mock_client.get(f"{API}/plans", headers=bearer(token))
    assert everything.json()["total"] == 4


@pytest.mark.parametrize("params", [{"limit": 501}, {"limit": 0}, {"offset": -1}])
async def test_paging_bounds(
    mock_client: httpx.AsyncClient, token: str, params: dict[str, int]
) -> None:
    """`limit` above 500 or below 1, or a negative offset → 422."""
    response = await mock_client.get(f"{API}/plans", params=params, headers=bearer(token))
    assert response.status_code == 422
    assert error_fields(response) == set(params)


async def test_paging_defaults_to_100(mock_client: httpx.AsyncClient, token: str) -> None:
    """Without `limit` a list page holds at most 100 items."""
    plan_id = await create_plan(mock_client, token)
    for i in range(101):
        await add(mock_client, token, plan_id, "goals", goal_body(externalReference=f"g{i}"))
    page = (await mock_client.get(f"{API}/plans/{plan_id}/goals", headers=bearer(token))).json()
    assert (len(page["items"]), page["total"]) == (100, 101)


async def test_close_then_close_again_is_409(mock_client: httpx.AsyncClient, token: str) -> None:
    """Close → 200 closed with the reason; a second close → 409 `plan-closed` with the reason."""
    plan_id = await create_plan(mock_client, token)
    url = f"{API}/plans/{plan_id}/close"
    first = await mock_client.post(url, json={"reason": "goals-achieved"}, headers=bearer(token))
    assert first.status_code == 200
    assert (first.json()["status"], first.json()["closedReason"]) == ("closed", "goals-achieved")
    second = await mock_client.post(url, json={"reason": "other"}, headers=bearer(token))
    assert second.status_code == 409
    assert second.json()["type"] == "plan-closed"
    assert second.json()["closedReason"] == "goals-achieved"


async def test_close_reason_is_validated(mock_client: httpx.AsyncClient, token: str) -> None:
    """An unknown close reason → 422."""
    plan_id = await create_plan(mock_client, token)
    response = await mock_client.post(
        f"{API}/plans/{plan_id}/close", json={"reason": "bored"}, headers=bearer(token)
    )
    assert response.status_code == 422
    assert error_fields(response) == {"reason"}


async def test_writes_to_a_closed_plan_are_409(mock_client: httpx.AsyncClient, token: str) -> None:
    """After close, adding content or changing the lead → 409 `plan-closed`."""
    plan_id = await create_plan(mock_client, token)
    goal_id = await add(mock_client, token, plan_id, "goals", goal_body())
    await mock_client.post(
        f"{API}/plans/{plan_id}/close", json={"reason": "other"}, headers=bearer(token)
    )
    attempts = [
        mock_client.post(f"{API}/plans/{plan_id}/goals", json=goal_body(), headers=bearer(token)),
        mock_client.patch(
            f"{API}/plans/{plan_id}/goals/{goal_id}",
            json={"status": "achieved"},
            headers=bearer(token),
        ),
        mock_client.put(
            f"{API}/plans/{plan_id}/lead",
            json={"name": "Ny", "nin": COORDINATOR_NIN},
            headers=bearer(token),
        ),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 409
        assert response.json()["type"] == "plan-closed"


async def test_lead_change(mock_client: httpx.AsyncClient, token: str) -> None:
    """PUT /lead replaces the plan lead and does not add a participant."""
    plan_id = await create_plan(mock_client, token)
    lead = {"name": "Ny Holder", "nin": COORDINATOR_NIN}
    response = await mock_client.put(
        f"{API}/plans/{plan_id}/lead", json=lead, headers=bearer(token)
    )
    assert response.status_code == 200
    plan = (await mock_client.get(f"{API}/plans/{plan_id}", headers=bearer(token))).json()
    assert plan["planLead"] == lead
    assert len(plan["participants"]) == 1


async def test_transfer_copies_by_the_rules(mock_client: httpx.AsyncClient, token: str) -> None:
    """Transfer: IP led by the coordinator with active goals, open measures, participants and
    active consents copied (references re-pointed); the source closes `transferred-to-ip`."""
    plan_id = await create_plan(mock_client, token)
    consent_id = await add(mock_client, token, plan_id, "consents", consent_body("skole"))
    withdrawn = await add(mock_client, token, plan_id, "consents", consent_body("ppt"))
    await mock_client.patch(
        f"{API}/plans/{plan_id}/consents/{withdrawn}",
        json={"status": "withdrawn"},
        headers=bearer(token),
    )
    teacher = await add(mock_client, token, plan_id, "participants", participant_body())
    goal = await add(mock_client, token, plan_id, "goals", goal_body())
    await add(mock_client, token, plan_id, "goals", goal_body(status="achieved"))
    await add(
        mock_client,
        token,
        plan_id,
        "measures",
        measure_body(goalId=goal, responsibleParticipantId=teacher),
    )
    await add(mock_client, token, plan_id, "measures", measure_body(status="ended"))
    await add(mock_client, token, plan_id, "responsibilities", responsibility_body())
    coordinator = {"name": "Test Koordinator", "nin": COORDINATOR_NIN}
    response = await mock_client.post(
        f"{API}/plans/{plan_id}/transfer",
        json={
            "targetPlanTypeId": "individuell-plan",
            "coordinator": coordinator,
            "externalReference": ref("plan", "ip"),
        },
        headers=bearer(token),
    )
    assert response.status_code == 201
    new_id = response.json()["planId"]
    assert response.json()["sourcePlanId"] == plan_id
    ip = (await mock_client.get(f"{API}/plans/{new_id}", headers=bearer(token))).json()
    source = (await mock_client.get(f"{API}/plans/{plan_id}", headers=bearer(token))).json()
    assert (ip["planTypeId"], ip["planLead"], ip["status"]) == (
        "individuell-plan",
        coordinator,
        "active",
    )
    assert ip["transferredFromPlanId"] == plan_id
    assert ip["externalReference"] == ref("plan", "ip")
    assert [c["affiliationIds"] for c in ip["consents"]] == [["skole"]]
    assert consent_id not in {c["id"] for c in ip["consents"]}
    assert [p["roleId"] for p in ip["participants"]] == ["foresatt", "deltaker"]
    assert [g["status"] for g in ip["goals"]] == ["active"]
    assert len(ip["measures"]) == 1
    measure = ip["measures"][0]
    assert measure["goalId"] == ip["goals"][0]["id"]
    assert measure["responsibleParticipantId"] == ip["participants"][1]["id"]
    assert ip["responsibilities"] == []
    assert (source["status"], source["closedReason"]) == ("closed", "transferred-to-ip")
    assert source["transferredToPlanId"] == new_id


async def test_second_transfer_is_409_already_transferred(
    mock_client: httpx.AsyncClient, token: str
) -> None:
    """A second transfer of the same source → 409 `already-transferred` naming the IP."""
    plan_id = await create_plan(mock_client, token)
    body = {
        "targetPlanTypeId": "individuell-plan",
        "coordinator": {"name": "Test Koordinator", "nin": COORDINATOR_NIN},
        "externalReference": ref("plan", "ip"),
    }
    url = f"{API}/plans/{plan_id}/transfer"
    first = await mock_client.post(url, json=body, headers=bearer(token))
    second = await mock_client.post(url, json=body, headers=bearer(token))
    assert second.status_code == 409
    assert second.json()["type"] == "already-transferred"
    assert second.json()["transferredToPlanId"] == first.json()["planId"]


async def test_transfer_only_to_an_individual_plan(
    mock_client: httpx.AsyncClient, token: str
) -> None:
    """A transfer to another plan type → 422 on `targetPlanTypeId`."""
    plan_id = await create_plan(mock_client, token)
    response = await mock_client.post(
        f"{API}/plans/{plan_id}/transfer",
        json={
            "targetPlanTypeId": "stafettlogg",
            "coordinator": {"name": "K", "nin": COORDINATOR_NIN},
            "externalReference": "x",
        },
        headers=bearer(token),
    )
    assert response.status_code == 422
    assert error_fields(response) == {"targetPlanTypeId"}
