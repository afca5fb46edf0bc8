"""Conformance of the P360 mock with the real SIF field sets (reference/p360-dto-samples)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.unit.test_mock_p360_support import (
    CHILD_NIN,
    PARAGRAPH,
    Sif,
    b64,
    open_sif,
    sample,
)

_INCLUDE_ALL = {"IncludeRemarks": True, "IncludeFileData": True}


@pytest.fixture
async def sif() -> AsyncIterator[Sif]:
    """A SIF client of a fresh mock."""
    async with open_sif() as client:
        yield client


def _extra_names(shown: object, reference: object, path: str = "") -> list[str]:
    """Paths of keys in `shown` that the reference response object does not have."""
    if isinstance(shown, dict) and isinstance(reference, dict):
        extra = [f"{path}.{key}" for key in shown if key not in reference]
        for key, value in shown.items():
            if key in reference and reference[key] not in ({}, [{}]):
                extra += _extra_names(value, reference[key], f"{path}.{key}")
        return extra
    if isinstance(shown, list) and isinstance(reference, list) and reference:
        return [name for item in shown for name in _extra_names(item, reference[0], f"{path}[]")]
    return []


def _with_codes(args: dict[str, Any]) -> dict[str, Any]:
    """A sample's placeholders replaced where the mock checks codes, roles and Base64."""
    args = copy.deepcopy(args)
    if "AccessCode" in args:
        args.update(AccessCode="13", Paragraph=PARAGRAPH)
    for name in ("Contacts", "UnregisteredContacts"):
        for contact in args.get(name, []):
            contact["Role"] = "Sakspart"
    for file in args.get("Files", []):
        file.update(Base64Data=b64(b"%PDF-1.7"), AccessCode="13")
    return args


async def _filled_archive(sif: Sif) -> dict[str, str]:
    """One case (with contact), a document with a remark and two files, and a person."""
    await sif.ok(
        "ContactService/SynchronizePrivatePerson",
        _with_codes(sample("ContactService_SynchronizePrivatePersonArgs"))
        | {"PersonalIdNumber": CHILD_NIN},
    )
    case_args = _with_codes(sample("CaseService_CreateCaseArgs")) | {"Status": "B"}
    case_args["Contacts"][0]["ReferenceNumber"] = CHILD_NIN
    case = await sif.ok("CaseService/CreateCase", case_args)
    document_args = _with_codes(sample("DocumentService_CreateDocumentArgs"))
    document_args.update(CaseNumber=case["CaseNumber"], Category="112", Status="J")
    document = await sif.ok("DocumentService/CreateDocument", document_args)
    file_args = _with_codes(sample("FileService_CreateFileArgs"))
    file_args.update(
        DocumentNumber=document["DocumentNumber"], AccessCode="13", Base64Data=b64(b"x")
    )
    await sif.ok("FileService/CreateFile", file_args)
    return {"CaseNumber": case["CaseNumber"], "DocumentNumber": document["DocumentNumber"]}


async def test_every_sample_args_object_is_accepted(sif: Sif) -> None:
    """Each *Args.json, placeholders made valid where the mock checks, succeeds."""
    numbers = await _filled_archive(sif)
    await sif.ok("SupportService/GetCodeTableRows", {"CodeTableName": "code table: Access code"})
    await sif.ok(
        "SupportService/GetCodeTableRows",
        sample("SupportService_GetCodeTableRowsArgs")
        | {"CodeTableName": "code table: Access code"},
    )
    await sif.ok("ContactService/GetPrivatePersons", sample("ContactService_GetPrivatePersonsArgs"))
    await sif.ok("CaseService/GetCases", sample("CaseService_GetCasesArgs"))
    await sif.ok("DocumentService/GetDocuments", sample("DocumentService_GetDocumentsArgs"))
    update = _with_codes(sample("CaseService_UpdateCaseArgs"))
    update.update(CaseNumber=numbers["CaseNumber"], Status="B")
    await sif.ok("CaseService/UpdateCase", update)


async def test_create_case_keeps_every_sample_field_as_received(sif: Sif) -> None:
    """Every field of CreateCaseArgs.json is kept as received in the dump, none dropped."""
    args = _with_codes(sample("CaseService_CreateCaseArgs")) | {"Status": "B"}
    await sif.ok("CaseService/CreateCase", args)
    [case] = sif.dumped("cases")
    assert {k: v for k, v in case.items() if k not in ("Recno", "CaseNumber")} == args


async def test_get_cases_sample_with_placeholders_finds_nothing(sif: Sif) -> None:
    """GetCasesArgs.json as is matches no case (all criteria must match) and succeeds."""
    await _filled_archive(sif)
    body = await sif.ok("CaseService/GetCases", sample("CaseService_GetCasesArgs"))
    assert (body["Cases"], body["TotalCount"]) == ([], 0)


@pytest.mark.parametrize(
    ("call", "reference"),
    [
        ("CaseService/GetCases", "CaseService_GetCasesResponse"),
        ("DocumentService/GetDocuments", "DocumentService_GetDocumentsResponse"),
        ("ContactService/GetPrivatePersons", "ContactService_GetPrivatePersonsResponse"),
        ("SupportService/GetCodeTableRows", "SupportService_GetCodeTableRowsResponse"),
    ],
)
async def test_read_responses_use_only_sample_names(sif: Sif, call: str, reference: str) -> None:
    """Every key of a Get* response (recursively) appears in the sample Response file."""
    numbers = await _filled_archive(sif)
    parameters: dict[str, dict[str, Any]] = {
        "CaseService/GetCases": {"CaseNumber": numbers["CaseNumber"]},
        "DocumentService/GetDocuments": {"CaseNumber": numbers["CaseNumber"], **_INCLUDE_ALL},
        "ContactService/GetPrivatePersons": {"PersonalIdNumber": CHILD_NIN},
        "SupportService/GetCodeTableRows": {"CodeTableName": "code table: Access code"},
    }
    body = await sif.ok(call, parameters[call])
    assert any(isinstance(v, list) and v for v in body.values()), "the result list is empty"
    assert _extra_names(body, sample(reference)) == []


async def test_write_responses_use_only_sample_names(sif: Sif) -> None:
    """CreateCase, UpdateCase, CreateDocument, CreateFile and Synchronize answer sample names."""
    person = await sif.ok(
        "ContactService/SynchronizePrivatePerson", {"PersonalIdNumber": CHILD_NIN}
    )
    case = await sif.ok(
        "CaseService/CreateCase", {"Title": "T", "ExternalId": {"Id": "m:1"}, "AccessCode": "U"}
    )
    updated = await sif.ok("CaseService/UpdateCase", {"CaseNumber": case["CaseNumber"]})
    document = await sif.ok(
        "DocumentService/CreateDocument",
        {"CaseNumber": case["CaseNumber"], "Title": "D", "Category": "110", "Status": "R"},
    )
    file = await sif.ok(
        "FileService/CreateFile",
        {
            "DocumentNumber": document["DocumentNumber"],
            "Title": "F",
            "Format": "txt",
            "Base64Data": b64(b"x"),
        },
    )
    for body, reference in [
        (person, "ContactService_SynchronizePrivatePersonResponse"),
        (case, "CaseService_CreateCaseResponse"),
        (updated, "CaseService_UpdateCaseResponse"),
        (document, "DocumentService_CreateDocumentResponse"),
        (file, "FileService_CreateFileResponse"),
    ]:
        assert set(body) == set(sample(reference)), reference


async def test_error_responses_use_only_envelope_names(sif: Sif) -> None:
    """A refusal carries exactly Successful, ErrorMessage and ErrorDetails."""
    body = await sif.call("CaseService/CreateCase", {})
    assert set(body) == {"Successful", "ErrorMessage", "ErrorDetails"}


def test_the_name_comparison_finds_an_extra_nested_key() -> None:
    """The recursive comparison reports a key the sample lacks, also inside lists."""
    reference = sample("DocumentService_GetDocumentsResponse")
    shown = {"Documents": [{"Files": [{"Title": "x", "RelationType": "H"}]}], "Bogus": 1}
    assert _extra_names(shown, reference) == [".Bogus", ".Documents[].Files[].RelationType"]
