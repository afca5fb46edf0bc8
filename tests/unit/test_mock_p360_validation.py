"""Business errors of the P360 mock: HTTP 200, `Successful: false`, fixed `Validation:` texts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from tests.unit.test_mock_p360_support import (
    CHILD_NIN,
    Sif,
    b64,
    case_parameter,
    document_parameter,
    open_sif,
)


@pytest.fixture
async def sif() -> AsyncIterator[Sif]:
    """A SIF client of a fresh mock."""
    async with open_sif() as client:
        yield client


def _without(parameter: Mapping[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in parameter.items() if k != name}


async def test_refusals_carry_a_fake_stack_trace_and_no_names(sif: Sif) -> None:
    """A refusal has ErrorDetails like a .NET stack trace and never quotes what was sent."""
    parameter = document_parameter("Kari Nordmann", Category="Kari", Status="Kari")
    body = await sif.call("DocumentService/CreateDocument", parameter)
    assert body["Successful"] is False
    assert body["ErrorDetails"].startswith("SI.Data.RPC.ValidationException: Validation:")
    assert "   at " in body["ErrorDetails"]
    assert "Kari" not in body["ErrorMessage"] + body["ErrorDetails"]


@pytest.mark.parametrize("field", ["Title", "ExternalId"])
async def test_create_case_requires_title_and_external_id(sif: Sif, field: str) -> None:
    """CreateCase without Title or ExternalId is refused naming the field."""
    message = await sif.fails("CaseService/CreateCase", _without(case_parameter(), field))
    assert message.startswith(f"Validation: {field}")
    assert sif.dumped("cases") == []


async def test_create_case_blank_title_counts_as_missing(sif: Sif) -> None:
    """A Title of only spaces is as missing as no Title."""
    message = await sif.fails("CaseService/CreateCase", case_parameter(Title="  "))
    assert message == "Validation: Title is required"


async def test_create_case_refuses_an_external_id_already_used(sif: Sif) -> None:
    """A second CreateCase with the same ExternalId is refused naming the existing case."""
    number = await sif.new_case("modum:1")
    message = await sif.fails("CaseService/CreateCase", case_parameter("modum:1"))
    assert message == f"Validation: ExternalId is already used by case {number}"
    cases = sif.dumped("cases")
    assert len(cases) == 1


async def test_create_case_refuses_an_unknown_case_status(sif: Sif) -> None:
    """CreateCase with a Status not in the case status table is refused."""
    message = await sif.fails("CaseService/CreateCase", case_parameter(Status="recno:99"))
    assert message == "Validation: unknown code or recno in Status"


async def test_create_case_refuses_an_unknown_access_code(sif: Sif) -> None:
    """CreateCase with an AccessCode not in the table is refused."""
    message = await sif.fails("CaseService/CreateCase", case_parameter(AccessCode="99"))
    assert message == "Validation: unknown code or recno in AccessCode"


async def test_create_case_refuses_access_code_13_without_paragraph(sif: Sif) -> None:
    """AccessCode 13 requires a Paragraph; without one CreateCase is refused."""
    message = await sif.fails("CaseService/CreateCase", case_parameter(Paragraph=None))
    assert message == "Validation: AccessCode 13 requires a Paragraph"


async def test_create_case_accepts_an_open_access_code_without_paragraph(sif: Sif) -> None:
    """AccessCode U (open) needs no Paragraph."""
    await sif.ok("CaseService/CreateCase", case_parameter(AccessCode="U", Paragraph=None))


async def test_create_case_refuses_an_unknown_contact_role(sif: Sif) -> None:
    """A case contact whose Role is not in the contact role table is refused."""
    contacts = [{"Role": "Onkel", "ReferenceNumber": CHILD_NIN, "IsUnofficial": True}]
    message = await sif.fails("CaseService/CreateCase", case_parameter(Contacts=contacts))
    assert message == "Validation: unknown code or recno in Contacts.Role"


@pytest.mark.parametrize("role", ["9", "recno:9", "Sakspart", "Avsender", "Mottaker", "Kopi til"])
async def test_contact_roles_accept_code_recno_and_name(sif: Sif, role: str) -> None:
    """Contact roles are accepted as code, recno:N or role name."""
    contacts = [{"Role": role, "ReferenceNumber": CHILD_NIN, "IsUnofficial": True}]
    await sif.ok("CaseService/CreateCase", case_parameter(Contacts=contacts))


async def test_create_case_refuses_a_field_of_the_wrong_type(sif: Sif) -> None:
    """A field that cannot be read (ExternalId as a string) is a Validation error, not 4xx."""
    message = await sif.fails("CaseService/CreateCase", case_parameter(ExternalId="modum:1"))
    assert message == "Validation: invalid value in ExternalId"


async def test_get_cases_refuses_a_recno_that_is_not_a_number(sif: Sif) -> None:
    """GetCases with a Recno that is no integer is a Validation error."""
    message = await sif.fails("CaseService/GetCases", {"Recno": "abc"})
    assert message == "Validation: invalid value in Recno"


async def test_update_case_requires_case_number_or_external_id(sif: Sif) -> None:
    """UpdateCase naming no case is refused."""
    message = await sif.fails("CaseService/UpdateCase", {"Status": "A"})
    assert message == "Validation: CaseNumber or ExternalId is required"


async def test_update_case_refuses_an_unknown_case_number(sif: Sif) -> None:
    """UpdateCase of a CaseNumber that does not exist is refused."""
    message = await sif.fails("CaseService/UpdateCase", {"CaseNumber": "2025/09999", "Status": "A"})
    assert message == "Validation: no case with that CaseNumber"


async def test_update_case_refuses_an_unknown_external_id(sif: Sif) -> None:
    """UpdateCase of an ExternalId no case has is refused."""
    message = await sif.fails(
        "CaseService/UpdateCase", {"ExternalId": {"Id": "nope", "Type": "BTI"}, "Status": "A"}
    )
    assert message == "Validation: no case with that ExternalId"


async def test_update_case_refuses_an_unknown_status(sif: Sif) -> None:
    """UpdateCase with a Status not in the case status table is refused and changes nothing."""
    number = await sif.new_case()
    message = await sif.fails("CaseService/UpdateCase", {"CaseNumber": number, "Status": "Z"})
    assert message == "Validation: unknown code or recno in Status"
    [case] = sif.dumped("cases")
    assert case["Status"] == "B"


@pytest.mark.parametrize("field", ["Title", "Category", "Status", "CaseNumber"])
async def test_create_document_requires_its_fields(sif: Sif, field: str) -> None:
    """CreateDocument without Title, Category, Status or CaseNumber is refused naming it."""
    number = await sif.new_case()
    parameter = _without(document_parameter(number), field)
    message = await sif.fails("DocumentService/CreateDocument", parameter)
    assert message == f"Validation: {field} is required"
    assert sif.dumped("documents") == []


async def test_create_document_refuses_an_unknown_case_number(sif: Sif) -> None:
    """CreateDocument on a CaseNumber that does not exist is refused."""
    message = await sif.fails("DocumentService/CreateDocument", document_parameter("2025/00042"))
    assert message == "Validation: no case with that CaseNumber"


async def test_create_document_refuses_an_unknown_category(sif: Sif) -> None:
    """CreateDocument with a Category not in the table is refused."""
    parameter = document_parameter(await sif.new_case(), Category="recno:118")
    message = await sif.fails("DocumentService/CreateDocument", parameter)
    assert message == "Validation: unknown code or recno in Category"


async def test_create_document_refuses_an_unknown_journal_status(sif: Sif) -> None:
    """CreateDocument with a Status not in the journal status table is refused."""
    parameter = document_parameter(await sif.new_case(), Status="B")
    message = await sif.fails("DocumentService/CreateDocument", parameter)
    assert message == "Validation: unknown code or recno in Status"


async def test_create_document_refuses_an_unknown_access_code(sif: Sif) -> None:
    """CreateDocument with an AccessCode not in the table is refused."""
    parameter = document_parameter(await sif.new_case(), AccessCode="recno:77")
    message = await sif.fails("DocumentService/CreateDocument", parameter)
    assert message == "Validation: unknown code or recno in AccessCode"


async def test_create_document_refuses_access_code_13_without_paragraph(sif: Sif) -> None:
    """CreateDocument with AccessCode 13 but no Paragraph is refused."""
    parameter = _without(document_parameter(await sif.new_case()), "Paragraph")
    message = await sif.fails("DocumentService/CreateDocument", parameter)
    assert message == "Validation: AccessCode 13 requires a Paragraph"


async def test_create_document_refuses_an_unknown_contact_role(sif: Sif) -> None:
    """A document contact whose Role is not in the table is refused."""
    contacts = [{"Role": "recno:1", "ContactName": "Ola", "IsUnofficial": True}]
    parameter = document_parameter(await sif.new_case(), UnregisteredContacts=contacts)
    message = await sif.fails("DocumentService/CreateDocument", parameter)
    assert message == "Validation: unknown code or recno in UnregisteredContacts.Role"


async def test_create_document_refuses_base64_that_does_not_decode(sif: Sif) -> None:
    """A file whose Base64Data is not Base64 is refused, and nothing is stored."""
    files = [{"Title": "Referat", "Format": "pdf", "Base64Data": "not base64!"}]
    parameter = document_parameter(await sif.new_case(), Files=files)
    message = await sif.fails("DocumentService/CreateDocument", parameter)
    assert message == "Validation: Files[0].Base64Data is not valid Base64"
    assert sif.dumped("documents") == []


@pytest.mark.parametrize("field", ["Title", "Format"])
async def test_create_document_requires_file_title_and_format(sif: Sif, field: str) -> None:
    """A file without Title or Format is refused."""
    files = [_without({"Title": "Referat", "Format": "pdf", "Base64Data": b64(b"x")}, field)]
    parameter = document_parameter(await sif.new_case(), Files=files)
    message = await sif.fails("DocumentService/CreateDocument", parameter)
    assert message == f"Validation: Files[0].{field} is required"


async def test_closed_case_refuses_documents(sif: Sif) -> None:
    """A case closed with UpdateCase Status A refuses a new document."""
    number = await sif.new_case()
    await sif.ok("CaseService/UpdateCase", {"CaseNumber": number, "Status": "A"})
    message = await sif.fails("DocumentService/CreateDocument", document_parameter(number))
    assert message == f"Validation: case {number} is closed and cannot receive documents"
    assert sif.dumped("documents") == []


async def test_case_created_closed_refuses_documents(sif: Sif) -> None:
    """A case created with Status recno:6 (avsluttet) refuses documents too."""
    number = await sif.new_case(Status="recno:6")
    message = await sif.fails("DocumentService/CreateDocument", document_parameter(number))
    assert message.startswith("Validation: case")


async def test_reopened_case_accepts_documents_again(sif: Sif) -> None:
    """After an archivist reopens a case (Status B) documents are accepted again."""
    number = await sif.new_case()
    await sif.ok("CaseService/UpdateCase", {"CaseNumber": number, "Status": "A"})
    await sif.ok("CaseService/UpdateCase", {"CaseNumber": number, "Status": "B"})
    assert await sif.new_document(number) == f"{number}-1"


@pytest.mark.parametrize("field", ["DocumentNumber", "Title", "Format", "Base64Data"])
async def test_create_file_requires_its_fields(sif: Sif, field: str) -> None:
    """CreateFile without DocumentNumber, Title, Format or Base64Data is refused."""
    number = await sif.new_document(await sif.new_case())
    parameter = {"DocumentNumber": number, "Title": "V", "Format": "txt", "Base64Data": b64(b"x")}
    message = await sif.fails("FileService/CreateFile", _without(parameter, field))
    assert message == f"Validation: {field} is required"


async def test_create_file_refuses_an_unknown_document(sif: Sif) -> None:
    """CreateFile on a DocumentNumber that does not exist is refused."""
    parameter = {
        "DocumentNumber": "2025/1-9",
        "Title": "V",
        "Format": "txt",
        "Base64Data": b64(b"x"),
    }
    message = await sif.fails("FileService/CreateFile", parameter)
    assert message == "Validation: no document with that DocumentNumber"


async def test_create_file_refuses_base64_that_does_not_decode(sif: Sif) -> None:
    """CreateFile with Base64Data that does not decode is refused."""
    number = await sif.new_document(await sif.new_case())
    parameter = {"DocumentNumber": number, "Title": "V", "Format": "txt", "Base64Data": "@@@"}
    message = await sif.fails("FileService/CreateFile", parameter)
    assert message == "Validation: Base64Data is not valid Base64"


async def test_synchronize_private_person_requires_personal_id_number(sif: Sif) -> None:
    """SynchronizePrivatePerson without PersonalIdNumber is refused."""
    message = await sif.fails("ContactService/SynchronizePrivatePerson", {"FirstName": "Kari"})
    assert message == "Validation: PersonalIdNumber is required"
    assert sif.dumped("persons") == []


async def test_get_code_table_rows_requires_a_known_table(sif: Sif) -> None:
    """GetCodeTableRows without a name, or with an unknown one, is refused."""
    missing = await sif.fails("SupportService/GetCodeTableRows", {})
    unknown = await sif.fails("SupportService/GetCodeTableRows", {"CodeTableName": "code table: X"})
    assert missing == "Validation: CodeTableName is required"
    assert unknown == "Validation: unknown CodeTableName"
