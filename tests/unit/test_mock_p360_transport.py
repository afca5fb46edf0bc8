"""Transport of the P360 mock: the three authentication variants, 401, 404 and the body shape."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.unit.test_mock_p360_support import (
    FINT_CLIENT,
    FINT_KEY,
    KEY,
    Sif,
    open_sif,
)

PING: dict[str, object] = {"parameter": {}}


@pytest.fixture
async def sif() -> AsyncIterator[Sif]:
    """A SIF client of a fresh mock."""
    async with open_sif() as client:
        yield client


async def test_query_authkey_is_accepted(sif: Sif) -> None:
    """`?authkey=KEY` authenticates (VTFK style)."""
    response = await sif.post("SupportService/Ping", PING, params={"authkey": KEY})
    assert (response.status_code, response.json()["Successful"]) == (200, True)


async def test_authorization_authkey_header_is_accepted(sif: Sif) -> None:
    """`Authorization: authkey KEY` authenticates (FINT style)."""
    response = await sif.post(
        "SupportService/Ping", PING, headers={"Authorization": f"authkey {KEY}"}
    )
    assert (response.status_code, response.json()["Successful"]) == (200, True)


async def test_authkey_header_is_accepted(sif: Sif) -> None:
    """An `AuthKey: KEY` header authenticates, also beside a Bearer Authorization (PNB style)."""
    plain = await sif.post("SupportService/Ping", PING, headers={"AuthKey": KEY})
    beside = await sif.post(
        "SupportService/Ping", PING, headers={"AuthKey": KEY, "Authorization": "Bearer abc"}
    )
    assert (plain.status_code, beside.status_code) == (200, 200)


async def test_authorization_with_the_registered_clientid_is_accepted(sif: Sif) -> None:
    """A key registered with a clientid is accepted with that `clientid` header."""
    headers = {"Authorization": f"authkey {FINT_KEY}", "clientid": FINT_CLIENT}
    response = await sif.post("SupportService/Ping", PING, headers=headers)
    assert response.status_code == 200


@pytest.mark.parametrize("clientid", [None, "someone-else"])
async def test_authorization_with_a_wrong_or_missing_clientid_is_401(
    sif: Sif, clientid: str | None
) -> None:
    """A key registered with a clientid is refused without it or with another one."""
    headers = {"Authorization": f"authkey {FINT_KEY}"}
    if clientid is not None:
        headers["clientid"] = clientid
    response = await sif.post("SupportService/Ping", PING, headers=headers)
    assert response.status_code == 401


async def test_a_key_registered_later_is_accepted(sif: Sif) -> None:
    """register_key() adds a key that works at once."""
    before = await sif.post("SupportService/Ping", PING, params={"authkey": "late"})
    sif.mock.register_key("late", None)
    after = await sif.post("SupportService/Ping", PING, params={"authkey": "late"})
    assert (before.status_code, after.status_code) == (401, 200)


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({}, {}),
        ({"authkey": "wrong"}, {}),
        ({}, {"Authorization": "authkey wrong"}),
        ({}, {"AuthKey": "wrong"}),
        ({}, {"Authorization": f"Bearer {KEY}"}),
        ({"authkey": ""}, {}),
    ],
    ids=["none", "query", "authorization", "authkey-header", "bearer", "empty"],
)
async def test_a_wrong_or_missing_key_is_401(
    sif: Sif, params: dict[str, str], headers: dict[str, str]
) -> None:
    """A wrong or missing key gets HTTP 401 and changes nothing."""
    body = {"parameter": {"Title": "T", "ExternalId": {"Id": "x"}}}
    response = await sif.post("CaseService/CreateCase", body, params=params, headers=headers)
    assert response.status_code == 401
    assert sif.dumped("cases") == []


async def test_the_connectors_hosturl_parameter_is_ignored(sif: Sif) -> None:
    """The Power Automate connector's `hosturl` query parameter changes nothing."""
    params = {"authkey": KEY, "hosturl": "https://example.360online.com"}
    response = await sif.post("SupportService/Ping", PING, params=params)
    assert (response.status_code, response.json()["Successful"]) == (200, True)


@pytest.mark.parametrize(
    "path", ["CaseService/DeleteCase", "NoSuchService/Ping", "SupportService/GetSIFVersionX"]
)
async def test_an_unknown_service_or_method_is_404(sif: Sif, path: str) -> None:
    """An unknown service or method is HTTP 404, even with a good key."""
    response = await sif.post(path, PING, params={"authkey": KEY})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body",
    [{}, {"Parameter": {}}, {"parameter": None}, {"parameter": "x"}, [], "text", 3],
    ids=["empty", "wrong-case", "null", "string", "array", "json-string", "number"],
)
async def test_a_body_without_a_parameter_object_is_200_unsuccessful(
    sif: Sif, body: object
) -> None:
    """A body that is not `{"parameter": {...}}` gets HTTP 200 with `Successful: false`."""
    response = await sif.post("CaseService/GetCases", body, params={"authkey": KEY})
    assert response.status_code == 200
    assert response.json()["Successful"] is False
    assert response.json()["ErrorMessage"].startswith("Validation:")


async def test_a_body_that_is_not_json_is_200_unsuccessful(sif: Sif) -> None:
    """A body that is not JSON at all gets HTTP 200 with `Successful: false`."""
    response = await sif.http.post(
        "/Biz/v2/api/call/SI.Data.RPC/SI.Data.RPC/CaseService/GetCases",
        content=b"{not json",
        params={"authkey": KEY},
    )
    assert response.status_code == 200
    assert response.json()["Successful"] is False


async def test_service_and_method_names_are_case_insensitive(sif: Sif) -> None:
    """Service and method match regardless of case, as on P360's IIS."""
    response = await sif.post("supportservice/ping", PING, params={"authkey": KEY})
    assert response.status_code == 200
