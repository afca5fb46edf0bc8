"""Schemathesis against the P360 mock, with Microsoft's Power Automate connector as the schema.

The connector (reference/public360-powerautomate.swagger.json) defines CreateCase,
CreateDocument and CreateFile. The schema is adapted here, in memory, only as the brief says:
an `authkey` query parameter is added and the connector's OAuth security is cleared. One more
change: `ErrorMessage`/`ErrorDetails` are marked `x-nullable`, because the connector types them
as plain strings while SIF (and our contract) answers a success with both `null`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from adapter.mock.p360 import SIF_PREFIX
from tests.unit.test_mock_p360_support import KEY, b64, case_parameter, make_app, new_mock

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"
SWAGGER = REFERENCE / "public360-powerautomate.swagger.json"
CHECKS = [not_a_server_error, response_schema_conformance]
HOSTURL = "https://example.public360online.com"


def _connector_schema() -> dict[str, Any]:
    """The connector definition with `authkey` added and OAuth security cleared."""
    schema: dict[str, Any] = json.loads(SWAGGER.read_text("utf-8"))
    schema.pop("security", None)
    schema["securityDefinitions"] = {}
    for path_item in schema["paths"].values():
        for operation in path_item.values():
            operation.pop("security", None)
            operation["parameters"].append(
                {
                    "name": "authkey",
                    "in": "query",
                    "required": True,
                    "type": "string",
                    "enum": [KEY],
                }
            )
            envelope = operation["responses"]["200"]["schema"]["properties"]
            for name in ("ErrorMessage", "ErrorDetails"):
                envelope[name]["x-nullable"] = True
    return schema


MOCK = new_mock()
SCHEMA = schemathesis.openapi.from_dict(_connector_schema())
SCHEMA.app = make_app(MOCK)


@SCHEMA.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_connector_definition_finds_no_server_error_and_no_bad_response(
    case: schemathesis.Case[Any],
) -> None:
    """Generated connector calls get no 5xx and responses that conform to the connector."""
    case.call_and_validate(checks=CHECKS)


def _operation(method: str) -> Any:
    path = next(p for p in SCHEMA.raw_schema["paths"] if p.endswith(method))
    return SCHEMA[path]["POST"]


def test_successful_connector_calls_conform_to_the_connector_responses() -> None:
    """CreateCase, CreateDocument and CreateFile as the connector sends them succeed and conform."""
    query = {"authkey": KEY, "hosturl": HOSTURL}
    created = (
        _operation("CreateCase")
        .Case(
            media_type="application/json",
            query=query,
            body={"parameter": case_parameter("connector:1")},
        )
        .call_and_validate(checks=CHECKS)
        .json()
    )
    assert created["Successful"] is True
    document_body = {
        "parameter": {
            "CaseNumber": created["CaseNumber"],
            "Title": "Notat",
            "Category": "recno:60005",
            "Status": "recno:6",
            "Contacts": [{"Role": "recno:9", "ReferenceNumber": "03891450019"}],
        }
    }
    document = (
        _operation("CreateDocument")
        .Case(media_type="application/json", query=query, body=document_body)
        .call_and_validate(checks=CHECKS)
        .json()
    )
    assert document["Successful"] is True
    file_body = {
        "parameter": {
            "DocumentNumber": document["DocumentNumber"],
            "Title": "Vedlegg",
            "Format": "txt",
            "Base64Data": b64(b"hei"),
        }
    }
    file = (
        _operation("CreateFile")
        .Case(media_type="application/json", query=query, body=file_body)
        .call_and_validate(checks=CHECKS)
        .json()
    )
    assert file["Successful"] is True


def test_the_unmodified_connector_rejects_null_error_fields() -> None:
    """Without `x-nullable` the connector's schema refuses a SIF success (why we add it)."""
    raw = json.loads(SWAGGER.read_text("utf-8"))
    unmodified = copy.deepcopy(_connector_schema())
    for path, path_item in raw["paths"].items():
        responses = path_item["post"]["responses"]
        unmodified["paths"][path]["post"]["responses"] = responses
    schema = schemathesis.openapi.from_dict(unmodified)
    schema.app = make_app(new_mock())
    path = next(p for p in unmodified["paths"] if p.endswith("CreateCase"))
    case = schema[path]["POST"].Case(
        media_type="application/json",
        query={"authkey": KEY, "hosturl": HOSTURL},
        body={"parameter": case_parameter("connector:2")},
    )
    with pytest.raises(FailureGroup) as failures:
        case.call_and_validate(checks=CHECKS)
    assert {type(f).__name__ for f in failures.value.exceptions} == {"JsonSchemaError"}


def test_the_mock_is_served_under_the_connector_paths() -> None:
    """Every path of the connector lies under the SIF prefix the mock is mounted at."""
    assert all(p.startswith(SIF_PREFIX + "/") for p in SCHEMA.raw_schema["paths"])
