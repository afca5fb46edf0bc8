"""The Samspill mock's plan collections: create, list, filter, change, delete, consent gate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.unit.test_mock_samspill_support import (
    API,
    add,
    calendar_body,
    consent_body,
    create_plan,
    error_fields,
    goal_body,
    log_body,
    measure_body,
    participant_body,
    responsibility_body,
)
from tests.unit.test_mock_support import VARDO, bearer, samspill_token

pytest_plugins = ["tests.conftest_mock"]

BODIES: dict[str, Callable[..., dict[str, Any]]] = {
    "consents": consent_body,
    "goals": goal_body,
    "measures": measure_body,
    "responsibilities": responsibility_body,
    "calendar": calendar_body,
    "log": log_body,
}


@pytest.fixture
async def token(mock_client: httpx.AsyncClient) -> str:
    """A modum token."""
    return await samspill_token(mock_client)


@pytest.fixture
async def plan_id(mock_client: httpx.AsyncClient, token: str) -> str:
    """An open stafettlogg of modum."""
    return await create_plan(mock_client, token)


@pytest.mark.parametrize("collection", sorted(BODIES))
async def test_items_are_created_listed_and_filtered(
    mock_client: httpx.AsyncClient, token: str, plan_id: str, collection: str
) -> None:
    """POST → 201 {id}; two creates with one reference both succeed; GET filters by it."""
    make = BODIES[collection]
    first = await add(mock_client, token, plan_id, collection, make(externalReference="same"))
    second = await add(mock_client, token, plan_id, collection, make(externalReference="same"))
    await add(mock_client, token, plan_id, collection, make(externalReference="other"))
    url = f"{API}/plans/{plan_id}/{collection}"
    page = await mock_client.get(url, params={"externalReference": "same"}, headers=bearer(token))
    assert page.status_code == 200
    assert page.json()["total"] == 2
    assert [i["id"] for i in page.json()["items"]] == [first, second]
    assert first != second
    plan = (await mock_client.get(f"{API}/plans/{plan_id}", headers=bearer(token))).json()
    assert len(plan[collection]) == 3


@pytest.mark.parametrize("collection", sorted(BODIES))
async def test_unknown_field_in_an_item_is_422(
    mock_client: httpx.AsyncClient, token: str, plan_id: str, collection: str
) -> None:
    """An unknown field, or no externalReference, → 422 listing both."""
    body = BODIES[collection](extra_field=1)
    del body["externalReference"]
    response = await mock_client.post(
        f"{API}/plans/{plan_id}/{collection}", json=body, headers=bearer(token)
    )
    assert response.status_code == 422
    assert error_fields(response) == {"extra_field", "externalReference"}


async def test_service_participant_needs_an_active_consent(
    mock_client: httpx.AsyncClient, token: str, plan_id: str
) -> None:
    """Without a covering consent → 409 `consent-required`; with one → 201; after withdrawal
    → 409 again."""
    url = f"{API}/plans/{plan_id}/participants"
    refused = await mock_client.post(url, json=participant_body(), headers=bearer(token))
    assert refused.status_code == 409
    assert refused.json()["type"] == "consent-required"
    consent = await add(mock_client, token, plan_id, "consents", consent_body("skole"))
    assert (
        await mock_client.post(url, json=participant_body(), headers=bearer(token))
    ).status_code == 201
    other = participant_body(affiliationId="ppt")
    assert (await mock_client.post(url, json=other, headers=bearer(token))).status_code == 409
    withdrawn = await mock_client.patch(
        f"{API}/plans/{plan_id}/consents/{consent}",
        json={"status": "withdrawn"},
        headers=bearer(token),
    )
    assert withdrawn.json()["status"] == "withdrawn"
    again = await mock_client.post(url, json=participant_body(), headers=bearer(token))
    assert again.status_code == 409


async def test_family_participant_needs_no_consent(
    mock_client: httpx.AsyncClient, token: str, plan_id: str
) -> None:
    """A `foresatt` without affiliation is added without a consent; with one it is 422."""
    url = f"{API}/plans/{plan_id}/participants"
    family = participant_body(roleId="foresatt", affiliationId=None, accessAreas=[])
    assert (await mock_client.post(url, json=family, headers=bearer(token))).status_code == 201
    wrong = participant_body(roleId="barn")
    response = await mock_client.post(url, json=wrong, headers=bearer(token))
    assert response.status_code == 422
    assert error_fields(response) == {"affiliationId"}


async def test_measure_with_responsible_affiliation_needs_consent(
    mock_client: httpx.AsyncClient, token: str, plan_id: str
) -> None:
    """A measure whose responsible affiliation no consent covers → 409 `consent-required`."""
    url = f"{API}/plans/{plan_id}/measures"
    body = measure_body(responsibleAffiliationId="helsestasjon")
    refused = await mock_client.post(url, json=body, headers=bearer(token))
    assert (refused.status_code, refused.json()["type"]) == (409, "consent-required")
    await add(mock_client, token, plan_id, "consents", consent_body("helsestasjon"))
    assert (await mock_client.post(url, json=body, headers=bearer(token))).status_code == 201


async def test_consent_with_unknown_affiliation_is_422(
    mock_client: httpx.AsyncClient, token: str, plan_id: str
) -> None:
    """Consents name known affiliations only."""
    response = await mock_client.post(
        f"{API}/plans/{plan_id}/consents",
        json=consent_body("skole", "kirke"),
        headers=bearer(token),
    )
    assert response.status_code == 422
    assert error_fields(response) == {"affiliationIds.1"}


@pytest.mark.parametrize(
    ("collection", "change"),
    [
        ("goals", {"status": "achieved", "evaluation": "Nådd"}),
        ("measures", {"status": "ended", "endDate": "2026-12-01"}),
        ("responsibilities", {"status": "done"}),
        ("calendar", {"start": "2026-11-25T09:00:00+01:00", "end": "2026-11-25T10:00:00+01:00"}),
        ("consents", {"status": "expired"}),
    ],
)
async def test_patch_changes_only_the_given_fields(
    mock_client: httpx.AsyncClient,
    token: str,
    plan_id: str,
    collection: str,
    change: dict[str, str],
) -> None:
    """PATCH answers the changed item; the other fields stay."""
    before = BODIES[collection]()
    item_id = await add(mock_client, token, plan_id, collection, before)
    response = await mock_client.patch(
        f"{API}/plans/{plan_id}/{collection}/{item_id}", json=change, headers=bearer(token)
    )
    assert response.status_code == 200
    after = response.json()
    for key, value in change.items():
        assert after[key] == value
    assert after["externalReference"] == before["externalReference"]
    plan = (await mock_client.get(f"{API}/plans/{plan_id}", headers=bearer(token))).json()
    assert plan[collection] == [after]


async def test_patch_rejects_unknown_fields(
    mock_client: httpx.AsyncClient, token: str, plan_id: str
) -> None:
    """PATCH bodies are strict too; the consent PATCH takes only a status."""
    goal = await add(mock_client, token, plan_id, "goals", goal_body())
    response = await mock_client.patch(
        f"{API}/plans/{plan_id}/goals/{goal}", json={"colour": "red"}, headers=bearer(token)
    )
    assert (response.status_code, error_fields(response)) == (422, {"colour"})


async def test_participant_delete(mock_client: httpx.AsyncClient, token: str, plan_id: str) -> None:
    """DELETE a participant → 204, then 404; PATCH on participants → 405."""
    plan = (await mock_client.get(f"{API}/plans/{plan_id}", headers=bearer(token))).json()
    url = f"{API}/plans/{plan_id}/participants/{plan['participants'][0]['id']}"
    assert (await mock_client.delete(url, headers=bearer(token))).status_code == 204
    assert (await mock_client.delete(url, headers=bearer(token))).status_code == 404
    assert (await mock_client.patch(url, json={}, headers=bearer(token))).status_code == 405


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
async def test_log_is_append_only(
    mock_client: httpx.AsyncClient, token: str, plan_id: str, method: str
) -> None:
    """PATCH or DELETE of a log line → 405; the line stays."""
    line = await add(mock_client, token, plan_id, "log", log_body())
    response = await mock_client.request(
        method, f"{API}/plans/{plan_id}/log/{line}", json={}, headers=bearer(token)
    )
    assert response.status_code == 405
    plan = (await mock_client.get(f"{API}/plans/{plan_id}", headers=bearer(token))).json()
    assert [entry["id"] for entry in plan["log"]] == [line]


async def test_goals_cannot_be_deleted(
    mock_client: httpx.AsyncClient, token: str, plan_id: str
) -> None:
    """Collections without DELETE in the table answer 405."""
    goal = await add(mock_client, token, plan_id, "goals", goal_body())
    response = await mock_client.delete(
        f"{API}/plans/{plan_id}/goals/{goal}", headers=bearer(token)
    )
    assert response.status_code == 405


async def test_unknown_item_is_404(
    mock_client: httpx.AsyncClient, token: str, plan_id: str
) -> None:
    """PATCH of an item that does not exist → 404."""
    response = await mock_client.patch(
        f"{API}/plans/{plan_id}/goals/nope", json={"status": "achieved"}, headers=bearer(token)
    )
    assert response.status_code == 404


async def test_collections_of_another_tenant_are_404(
    mock_client: httpx.AsyncClient, plan_id: str
) -> None:
    """Another tenant can neither list nor add to the plan."""
    vardo = await samspill_token(mock_client, VARDO)
    url = f"{API}/plans/{plan_id}/goals"
    assert (await mock_client.get(url, headers=bearer(vardo))).status_code == 404
    assert (await mock_client.post(url, json=goal_body(), headers=bearer(vardo))).status_code == 404


async def test_collection_paging(mock_client: httpx.AsyncClient, token: str, plan_id: str) -> None:
    """Collection lists page with limit and offset."""
    ids = [
        await add(mock_client, token, plan_id, "log", log_body(externalReference=f"n{i}"))
        for i in range(5)
    ]
    page = await mock_client.get(
        f"{API}/plans/{plan_id}/log", params={"limit": 2, "offset": 2}, headers=bearer(token)
    )
    assert page.json()["total"] == 5
    assert [i["id"] for i in page.json()["items"]] == ids[2:4]
