"""Shared helpers of the P360 mock tests: an in-process app, a SIF client and sample data.

Holds no tests; the test modules import from here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from adapter.mock.p360 import SIF_PREFIX, P360Mock

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "reference" / "p360-dto-samples"
KEY = "test-p360-key"
FINT_KEY = "fint-filter-set-key"
FINT_CLIENT = "fint-client"
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)

CHILD_NIN = "12881550081"  # Tenor synthetic (month + 80)
OTHER_NIN = "03891450019"  # Tenor synthetic (month + 80)
PARAGRAPH = "Offl. § 13 jf. fvl. § 13 (1) nr.1"
PDF = b"%PDF-1.7\n% stafett test minutes\n"


def b64(data: bytes) -> str:
    """Base64 text of bytes, as SIF carries file content."""
    return base64.b64encode(data).decode("ascii")


def sample(name: str) -> dict[str, Any]:
    """One of the FINT DTO samples, e.g. `CaseService_CreateCaseArgs`."""
    loaded: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text("utf-8"))
    return loaded


def make_app(mock: P360Mock) -> FastAPI:
    """A tiny app that serves the mock's router where the real app will."""
    app = FastAPI()
    app.include_router(mock.router(), prefix=SIF_PREFIX)
    return app


def new_mock() -> P360Mock:
    """A mock with a fixed clock and two keys: a plain one and one bound to a clientid."""
    mock = P360Mock(clock=lambda: NOW)
    mock.register_key(KEY, None)
    mock.register_key(FINT_KEY, FINT_CLIENT)
    return mock


def case_parameter(case_id: str = "modum:BTI-1", **changes: Any) -> dict[str, Any]:
    """A CreateCase parameter as the adapter sends it for a child's BTI case."""
    parameter: dict[str, Any] = {
        "Title": "Tverrfaglig samarbeid – BTI",
        "UnofficialTitle": "Tverrfaglig samarbeid – BTI – Kari Nordmann",
        "ExternalId": {"Id": case_id, "Type": "BTI"},
        "Status": "B",
        "AccessCode": "13",
        "Paragraph": PARAGRAPH,
        "ArchiveCodes": [
            {"ArchiveCode": CHILD_NIN, "ArchiveType": "FNR", "Sort": 1, "IsManualText": True}
        ],
        "ResponsibleEnterpriseNumber": "864965962",
        "Contacts": [{"Role": "Sakspart", "ReferenceNumber": CHILD_NIN, "IsUnofficial": True}],
    }
    parameter.update(changes)
    return parameter


def document_parameter(case_number: str, **changes: Any) -> dict[str, Any]:
    """A CreateDocument parameter for meeting minutes, as the adapter sends it."""
    parameter: dict[str, Any] = {
        "CaseNumber": case_number,
        "Title": "Referat samarbeidsmøte",
        "UnofficialTitle": "Referat samarbeidsmøte – Kari Nordmann",
        "Category": "112",
        "Status": "J",
        "AccessCode": "13",
        "Paragraph": PARAGRAPH,
        "Remarks": [{"Title": "stafett-ref", "Content": "op-0001", "RemarkType": "ME"}],
        "Files": [
            {
                "Title": "Referat",
                "Format": "pdf",
                "Base64Data": b64(PDF),
                "RelationType": "H",
                "VersionFormat": "P",
            }
        ],
    }
    parameter.update(changes)
    return parameter


@dataclass
class Sif:
    """A SIF client of the in-process mock; `call` sends the key as a query parameter."""

    http: httpx.AsyncClient
    mock: P360Mock

    def dumped(self, kind: str) -> list[dict[str, Any]]:
        """One list of the mock's dump: `cases`, `documents` or `persons`."""
        items = self.mock.dump()[kind]
        assert isinstance(items, list)
        return items

    async def post(self, service_method: str, body: object, **kwargs: Any) -> httpx.Response:
        """Raw POST of a JSON body to `{Service}/{Method}`."""
        return await self.http.post(f"{SIF_PREFIX}/{service_method}", json=body, **kwargs)

    async def call(self, service_method: str, parameter: dict[str, Any]) -> dict[str, Any]:
        """One authorised call; asserts HTTP 200 and returns the JSON body."""
        response = await self.post(
            service_method, {"parameter": parameter}, params={"authkey": KEY}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def ok(self, service_method: str, parameter: dict[str, Any]) -> dict[str, Any]:
        """A call that must succeed: the success envelope, and the body."""
        body = await self.call(service_method, parameter)
        assert (body["Successful"], body["ErrorMessage"], body["ErrorDetails"]) == (
            True,
            None,
            None,
        ), body
        return body

    async def fails(self, service_method: str, parameter: dict[str, Any]) -> str:
        """A call that must be refused with a business error; returns ErrorMessage."""
        body = await self.call(service_method, parameter)
        assert body["Successful"] is False, body
        assert body["ErrorDetails"], body
        message: str = body["ErrorMessage"]
        return message

    async def new_case(self, case_id: str = "modum:BTI-1", **changes: Any) -> str:
        """Create a case; returns its CaseNumber."""
        body = await self.ok("CaseService/CreateCase", case_parameter(case_id, **changes))
        number: str = body["CaseNumber"]
        return number

    async def new_document(self, case_number: str, **changes: Any) -> str:
        """Create a document; returns its DocumentNumber."""
        parameter = document_parameter(case_number, **changes)
        body = await self.ok("DocumentService/CreateDocument", parameter)
        number: str = body["DocumentNumber"]
        return number


@asynccontextmanager
async def open_sif(mock: P360Mock | None = None) -> AsyncIterator[Sif]:
    """A `Sif` client talking to a fresh (or the given) mock through ASGI."""
    mock = mock or new_mock()
    transport = httpx.ASGITransport(app=make_app(mock))
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as http:
        yield Sif(http, mock)
