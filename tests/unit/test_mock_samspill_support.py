"""Shared helpers of the Samspill mock tests: request bodies and a plan-making client.

Holds no tests; the test modules import from here. Every nin is Tenor synthetic.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.unit.test_mock_support import MODUM, bearer

API = "/samspill/api/v1"
CHILD_NIN = "15831450018"
MOTHER_NIN = "03851650090"
LEAD_NIN = "22891250170"
COORDINATOR_NIN = "11918010183"
TEACHER_NIN = "07838510072"
BAD_NIN = "15831450019"  # last check digit off by one


def ref(kind: str, internal_id: str) -> str:
    """An externalReference as the adapter builds it."""
    return f"stafett:modum:BTI-2026-0042:{kind}:{internal_id}"


def plan_body(**changes: Any) -> dict[str, Any]:
    """A valid create-plan body for modum (family participant only)."""
    body: dict[str, Any] = {
        "planTypeId": "stafettlogg",
        "organizationNumber": MODUM.organization_number,
        "mainPerson": {"name": "Test Barn", "nin": CHILD_NIN},
        "planLead": {"name": "Test Lærer", "nin": LEAD_NIN},
        "participants": [{"name": "Test Mor", "nin": MOTHER_NIN, "roleId": "foresatt"}],
        "affiliationId": "skole",
        "externalReference": ref("plan", "stafettlogg"),
    }
    body.update(changes)
    return body


def consent_body(*affiliations: str, **changes: Any) -> dict[str, Any]:
    """A valid consent covering `affiliations`."""
    body: dict[str, Any] = {
        "givenBy": [{"name": "Test Mor", "nin": MOTHER_NIN, "relation": "mor"}],
        "affiliationIds": list(affiliations) or ["skole"],
        "validFrom": "2026-11-01",
        "validTo": None,
        "documentReference": "https://bti.example/documents/c1",
        "externalReference": ref("consent", "C1"),
    }
    body.update(changes)
    return body


def participant_body(**changes: Any) -> dict[str, Any]:
    """A service participant (skole)."""
    body: dict[str, Any] = {
        "name": "Test Kontaktlærer",
        "nin": TEACHER_NIN,
        "roleId": "deltaker",
        "affiliationId": "skole",
        "accessAreas": ["mal-og-tiltak", "kalender", "logg", "dokumenter", "meldinger"],
        "externalReference": ref("participant", "P1"),
    }
    body.update(changes)
    return body


def goal_body(**changes: Any) -> dict[str, Any]:
    """An active goal."""
    body: dict[str, Any] = {
        "title": "Trives på skolen",
        "description": "Mer ro i friminuttene",
        "targetDate": "2027-01-31",
        "status": "active",
        "externalReference": ref("goal", "G1"),
    }
    body.update(changes)
    return body


def measure_body(**changes: Any) -> dict[str, Any]:
    """A planned measure without a responsible affiliation."""
    body: dict[str, Any] = {
        "title": "Fast voksen i friminutt",
        "arena": "skole",
        "startDate": "2026-11-10",
        "status": "planned",
        "externalReference": ref("measure", "M1"),
    }
    body.update(changes)
    return body


def responsibility_body(**changes: Any) -> dict[str, Any]:
    """An open responsibility."""
    body: dict[str, Any] = {
        "participantId": "stafettholder",
        "task": "Kalle inn til møte",
        "dueDate": "2026-11-20",
        "status": "open",
        "externalReference": ref("responsibility", "R1"),
    }
    body.update(changes)
    return body


def calendar_body(**changes: Any) -> dict[str, Any]:
    """A planned meeting."""
    body: dict[str, Any] = {
        "title": "Oppfølgingssamtale",
        "kind": "oppfolgingssamtale",
        "start": "2026-11-24T09:00:00+01:00",
        "end": "2026-11-24T10:00:00+01:00",
        "location": "Skolen",
        "participantIds": [],
        "status": "planned",
        "externalReference": ref("meeting", "K1"),
    }
    body.update(changes)
    return body


def log_body(**changes: Any) -> dict[str, Any]:
    """A log line."""
    body: dict[str, Any] = {
        "text": "Samtale med foresatte gjennomført.",
        "authorName": "Test Lærer",
        "occurredAt": "2026-11-02T10:15:00+01:00",
        "externalReference": ref("log", "N1"),
    }
    body.update(changes)
    return body


async def create_plan(client: httpx.AsyncClient, token: str, **changes: Any) -> str:
    """Create a plan; returns its id."""
    response = await client.post(f"{API}/plans", json=plan_body(**changes), headers=bearer(token))
    assert response.status_code == 201, response.text
    plan_id = response.json()["planId"]
    assert isinstance(plan_id, str)
    return plan_id


async def add(
    client: httpx.AsyncClient, token: str, plan_id: str, collection: str, body: dict[str, Any]
) -> str:
    """Create an item; returns its id."""
    response = await client.post(
        f"{API}/plans/{plan_id}/{collection}", json=body, headers=bearer(token)
    )
    assert response.status_code == 201, response.text
    item_id = response.json()["id"]
    assert isinstance(item_id, str)
    return item_id


def error_fields(response: httpx.Response) -> set[str]:
    """The `field` of every entry of a problem's `errors`."""
    return {e["field"] for e in response.json()["errors"]}
