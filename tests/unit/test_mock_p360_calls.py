"""The success paths of every SIF call the P360 mock serves."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import pytest

from tests.unit.test_mock_p360_support import (
    CHILD_NIN,
    NOW,
    OTHER_NIN,
    PARAGRAPH,
    PDF,
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


async def test_ping_answers_the_success_envelope(sif: Sif) -> None:
    """SupportService/Ping and FileService/Ping answer with a bare success envelope."""
    for call in ("SupportService/Ping", "FileService/Ping"):
        body = await sif.ok(call, {})
        assert set(body) == {"Successful", "ErrorMessage", "ErrorDetails"}


async def test_code_table_rows_lists_the_seeded_case_statuses(sif: Sif) -> None:
    """GetCodeTableRows returns the case status table as the contract seeds it."""
    body = await sif.ok(
        "SupportService/GetCodeTableRows", {"CodeTableName": "code table: Case status"}
    )
    rows = {(r["Code"], r["Recno"]) for r in body["CodeTableRows"]}
    assert rows == {("B", 5), ("A", 6), ("R", 4), ("U", 8)}
    assert all(r["IsExpired"] is False and r["Description"] for r in body["CodeTableRows"])


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("code table: Journal status", {"R": 1, "F": 4, "E": 5, "J": 6, "A": 7, "U": 8}),
        (
            "code table: Document category",
            {c: int(c) for c in ("110", "111", "112", "113", "114", "115", "60005")},
        ),
        ("code table: Contact role", {"5": 5, "6": 6, "8": 8, "9": 9}),
    ],
)
async def test_code_table_rows_serves_each_seeded_table(
    sif: Sif, table: str, expected: dict[str, int]
) -> None:
    """Journal status, document category and contact role tables hold the contract's codes."""
    body = await sif.ok("SupportService/GetCodeTableRows", {"CodeTableName": table})
    assert {r["Code"]: r["Recno"] for r in body["CodeTableRows"]} == expected


async def test_access_code_table_holds_13_and_an_open_code(sif: Sif) -> None:
    """The access code table has 13 (confidential) and U (open)."""
    body = await sif.ok(
        "SupportService/GetCodeTableRows", {"CodeTableName": "code table: Access code"}
    )
    assert {"13", "U"} <= {r["Code"] for r in body["CodeTableRows"]}


async def test_synchronize_private_person_inserts_then_updates_by_number(sif: Sif) -> None:
    """SynchronizePrivatePerson keeps one Recno per PersonalIdNumber and replaces the fields."""
    first = await sif.ok(
        "ContactService/SynchronizePrivatePerson",
        {"PersonalIdNumber": CHILD_NIN, "FirstName": "Kari", "LastName": "Nordmann"},
    )
    again = await sif.ok(
        "ContactService/SynchronizePrivatePerson",
        {"PersonalIdNumber": CHILD_NIN, "FirstName": "Kari Anne", "LastName": ""},
    )
    other = await sif.ok("ContactService/SynchronizePrivatePerson", {"PersonalIdNumber": OTHER_NIN})
    assert again["Recno"] == first["Recno"] != other["Recno"]
    persons = sif.dumped("persons")
    assert persons[0] == {
        "PersonalIdNumber": CHILD_NIN,
        "FirstName": "Kari Anne",
        "LastName": "",
        "Recno": first["Recno"],
    }


async def test_synchronize_private_person_clears_fields_left_out(sif: Sif) -> None:
    """A second synchronisation without a field clears it (blank fields clear)."""
    await sif.ok(
        "ContactService/SynchronizePrivatePerson",
        {"PersonalIdNumber": CHILD_NIN, "FirstName": "Kari", "Email": "kari@example.org"},
    )
    await sif.ok("ContactService/SynchronizePrivatePerson", {"PersonalIdNumber": CHILD_NIN})
    body = await sif.ok("ContactService/GetPrivatePersons", {"PersonalIdNumber": CHILD_NIN})
    assert body["PrivatePersons"][0]["Email"] is None
    assert body["PrivatePersons"][0]["FirstName"] is None


async def test_get_private_persons_finds_by_number_and_nothing_for_unknown(sif: Sif) -> None:
    """GetPrivatePersons finds a synchronised person; an unknown number is an empty list."""
    created = await sif.ok(
        "ContactService/SynchronizePrivatePerson",
        {"PersonalIdNumber": CHILD_NIN, "FirstName": "Kari", "LastName": "Nordmann"},
    )
    found = await sif.ok("ContactService/GetPrivatePersons", {"PersonalIdNumber": CHILD_NIN})
    none = await sif.ok("ContactService/GetPrivatePersons", {"PersonalIdNumber": OTHER_NIN})
    assert [p["Recno"] for p in found["PrivatePersons"]] == [created["Recno"]]
    assert found["PrivatePersons"][0]["LastName"] == "Nordmann"
    assert (found["TotalCount"], found["TotalPageCount"]) == (1, 1)
    assert (none["PrivatePersons"], none["TotalCount"], none["TotalPageCount"]) == ([], 0, 0)


async def test_create_case_numbers_cases_from_the_clock_year(sif: Sif) -> None:
    """CreateCase returns increasing Recnos and CaseNumbers YYYY/NNNNN of the clock's year."""
    first = await sif.ok("CaseService/CreateCase", case_parameter("modum:1"))
    second = await sif.ok("CaseService/CreateCase", case_parameter("modum:2"))
    assert (first["CaseNumber"], second["CaseNumber"]) == (f"{NOW.year}/00001", f"{NOW.year}/00002")
    assert second["Recno"] > first["Recno"]


async def test_create_case_is_dumped_as_received_with_numbers_and_status(sif: Sif) -> None:
    """The dump shows the CreateCase parameter as received plus Recno, CaseNumber, Status."""
    parameter = case_parameter("modum:1", SomethingP360Ignores={"x": 1})
    body = await sif.ok("CaseService/CreateCase", parameter)
    assert sif.dumped("cases") == [
        {**parameter, "Recno": body["Recno"], "CaseNumber": body["CaseNumber"], "Status": "B"}
    ]


async def test_create_case_without_status_is_under_behandling(sif: Sif) -> None:
    """A case created without Status gets status B (under behandling)."""
    parameter = case_parameter("modum:1")
    del parameter["Status"]
    number = await sif.ok("CaseService/CreateCase", parameter)
    found = await sif.ok("CaseService/GetCases", {"CaseNumber": number["CaseNumber"]})
    assert found["Cases"][0]["Status"] == "B"


async def test_same_external_id_with_another_type_is_another_case(sif: Sif) -> None:
    """ExternalId is unique per Type: the same Id under another Type makes a new case."""
    await sif.new_case("modum:1")
    other = case_parameter("modum:1", ExternalId={"Id": "modum:1", "Type": "Digisak"})
    await sif.ok("CaseService/CreateCase", other)
    cases = sif.dumped("cases")
    assert len(cases) == 2


async def test_get_cases_by_external_id_returns_titles_and_codes(sif: Sif) -> None:
    """GetCases by ExternalId{Id, Type} returns the case with public and full titles."""
    number = await sif.new_case("modum:1")
    await sif.new_case("modum:2")
    body = await sif.ok("CaseService/GetCases", {"ExternalId": {"Id": "modum:1", "Type": "BTI"}})
    [case] = body["Cases"]
    assert case["CaseNumber"] == number
    assert case["Title"] == "Tverrfaglig samarbeid – BTI"
    assert case["UnofficialTitle"].endswith("Kari Nordmann")
    assert case["ExternalId"] == {"Id": "modum:1", "Type": "BTI"}
    assert (case["AccessCodeCode"], case["Paragraph"]) == ("13", PARAGRAPH)
    assert case["ArchiveCodes"][0]["ArchiveType"] == "FNR"
    assert case["Contacts"][0]["Role"] == "Sakspart"


async def test_get_cases_by_external_id_of_another_type_finds_nothing(sif: Sif) -> None:
    """GetCases with the right Id but another Type returns an empty list."""
    await sif.new_case("modum:1")
    body = await sif.ok("CaseService/GetCases", {"ExternalId": {"Id": "modum:1", "Type": "X"}})
    assert (body["Cases"], body["TotalCount"], body["TotalPageCount"]) == ([], 0, 0)


async def test_get_cases_by_recno_and_by_case_number(sif: Sif) -> None:
    """GetCases finds one case by Recno and by CaseNumber."""
    created = await sif.ok("CaseService/CreateCase", case_parameter("modum:1"))
    await sif.new_case("modum:2")
    by_recno = await sif.ok("CaseService/GetCases", {"Recno": created["Recno"]})
    by_number = await sif.ok("CaseService/GetCases", {"CaseNumber": created["CaseNumber"]})
    assert [c["CaseNumber"] for c in by_recno["Cases"]] == [created["CaseNumber"]]
    assert [c["Recno"] for c in by_number["Cases"]] == [created["Recno"]]


async def test_get_cases_by_contact_reference_number(sif: Sif) -> None:
    """GetCases by ContactReferenceNumber matches a case contact's ReferenceNumber."""
    number = await sif.new_case("modum:1")
    other = [{"Role": "9", "ReferenceNumber": OTHER_NIN, "IsUnofficial": True}]
    await sif.new_case("modum:2", Contacts=other)
    body = await sif.ok("CaseService/GetCases", {"ContactReferenceNumber": CHILD_NIN})
    assert [c["CaseNumber"] for c in body["Cases"]] == [number]


async def test_get_cases_by_title_uses_like_with_percent(sif: Sif) -> None:
    """GetCases by Title is a LIKE: `%` matches any text, no `%` means the whole title."""
    await sif.new_case("modum:1")
    await sif.new_case("modum:2", Title="Elevmappe")
    like = await sif.ok("CaseService/GetCases", {"Title": "%samarbeid%"})
    exact = await sif.ok("CaseService/GetCases", {"Title": "samarbeid"})
    assert [c["Title"] for c in like["Cases"]] == ["Tverrfaglig samarbeid – BTI"]
    assert exact["Cases"] == []


async def test_get_cases_pages_with_max_returned_cases(sif: Sif) -> None:
    """GetCases pages 0-based with MaxReturnedCases and reports TotalCount and TotalPageCount."""
    numbers = [await sif.new_case(f"modum:{i}") for i in range(5)]
    pages = [
        await sif.ok("CaseService/GetCases", {"Title": "%", "MaxReturnedCases": 2, "Page": page})
        for page in range(3)
    ]
    assert [[c["CaseNumber"] for c in p["Cases"]] for p in pages] == [
        numbers[0:2],
        numbers[2:4],
        numbers[4:5],
    ]
    assert {(p["TotalCount"], p["TotalPageCount"]) for p in pages} == {(5, 3)}


async def test_get_cases_defaults_to_pages_of_100(sif: Sif) -> None:
    """Without MaxReturnedCases a page holds at most 100 cases."""
    for i in range(101):
        await sif.new_case(f"modum:{i}")
    body = await sif.ok("CaseService/GetCases", {"Title": "%"})
    assert (len(body["Cases"]), body["TotalCount"], body["TotalPageCount"]) == (100, 101, 2)


async def test_update_case_status_a_closes_the_case(sif: Sif) -> None:
    """UpdateCase by CaseNumber with Status A closes the case (Status shown as A)."""
    created = await sif.ok("CaseService/CreateCase", case_parameter("modum:1"))
    body = await sif.ok(
        "CaseService/UpdateCase", {"CaseNumber": created["CaseNumber"], "Status": "A"}
    )
    assert (body["Recno"], body["CaseNumber"]) == (created["Recno"], created["CaseNumber"])
    found = await sif.ok("CaseService/GetCases", {"CaseNumber": created["CaseNumber"]})
    assert found["Cases"][0]["Status"] == "A"
    cases = sif.dumped("cases")
    assert cases[0]["Status"] == "A"


async def test_update_case_by_external_id_with_recno_status(sif: Sif) -> None:
    """UpdateCase finds the case by ExternalId and takes the status as recno:6."""
    number = await sif.new_case("modum:1")
    await sif.ok(
        "CaseService/UpdateCase",
        {"ExternalId": {"Id": "modum:1", "Type": "BTI"}, "Status": "recno:6"},
    )
    found = await sif.ok("CaseService/GetCases", {"CaseNumber": number})
    assert found["Cases"][0]["Status"] == "A"


async def test_update_case_keeps_null_fields_and_appends_contacts(sif: Sif) -> None:
    """UpdateCase leaves fields sent as null, changes given ones and appends Contacts."""
    number = await sif.new_case("modum:1")
    extra = {"Role": "5", "ReferenceNumber": OTHER_NIN, "IsUnofficial": True}
    await sif.ok(
        "CaseService/UpdateCase",
        {"CaseNumber": number, "Title": "Ny tittel", "Paragraph": None, "Contacts": [extra]},
    )
    [case] = (await sif.ok("CaseService/GetCases", {"CaseNumber": number}))["Cases"]
    assert (case["Title"], case["Paragraph"]) == ("Ny tittel", PARAGRAPH)
    assert [c["Referencenumber"] for c in case["Contacts"]] == [CHILD_NIN, OTHER_NIN]


async def test_create_document_numbers_documents_per_case(sif: Sif) -> None:
    """CreateDocument numbers documents `{CaseNumber}-{n}` counting per case."""
    first_case = await sif.new_case("modum:1")
    second_case = await sif.new_case("modum:2")
    numbers = [
        await sif.new_document(first_case),
        await sif.new_document(second_case),
        await sif.new_document(first_case),
    ]
    assert numbers == [f"{first_case}-1", f"{second_case}-1", f"{first_case}-2"]


async def test_create_document_is_not_idempotent(sif: Sif) -> None:
    """The same CreateDocument twice makes two documents, as real P360 does."""
    number = await sif.new_case()
    await sif.new_document(number)
    await sif.new_document(number)
    documents = sif.dumped("documents")
    assert len(documents) == 2


async def test_create_document_is_dumped_with_file_hash_not_data(sif: Sif) -> None:
    """The dump shows the parameter as received, numbers, and per file sha256 and size."""
    case_number = await sif.new_case()
    parameter = document_parameter(case_number)
    body = await sif.ok("DocumentService/CreateDocument", parameter)
    [document] = sif.dumped("documents")
    assert document["DocumentNumber"] == body["DocumentNumber"]
    assert document["Recno"] == body["Recno"]
    assert document["CaseNumber"] == case_number
    assert document["Remarks"] == parameter["Remarks"]
    [file] = document["Files"]
    assert "Base64Data" not in file
    assert file["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert file["size"] == len(PDF)
    assert (file["Title"], file["Format"], file["RelationType"]) == ("Referat", "pdf", "H")


async def test_create_document_accepts_category_and_status_as_recno(sif: Sif) -> None:
    """Category and Status may be given as recno:N (the connector's form)."""
    case_number = await sif.new_case()
    await sif.new_document(case_number, Category="recno:112", Status="recno:6")
    [doc] = (await sif.ok("DocumentService/GetDocuments", {"CaseNumber": case_number}))["Documents"]
    assert doc["Category"] == {"Recno": 112, "Code": "112", "Description": "Referat"}
    assert doc["StatusCode"] == "J"


async def test_create_document_by_case_external_id(sif: Sif) -> None:
    """CreateDocument finds its case by CaseExternalId when CaseNumber is not given."""
    case_number = await sif.new_case("modum:1")
    parameter = document_parameter("", CaseExternalId={"Id": "modum:1", "Type": "BTI"})
    del parameter["CaseNumber"]
    body = await sif.ok("DocumentService/CreateDocument", parameter)
    assert body["DocumentNumber"] == f"{case_number}-1"


async def test_create_document_inherits_access_code_and_paragraph_of_its_case(sif: Sif) -> None:
    """A document without AccessCode and Paragraph gets those of its case."""
    case_number = await sif.new_case()
    parameter = document_parameter(case_number)
    del parameter["AccessCode"], parameter["Paragraph"]
    await sif.ok("DocumentService/CreateDocument", parameter)
    [doc] = (await sif.ok("DocumentService/GetDocuments", {"CaseNumber": case_number}))["Documents"]
    assert (doc["AccessCodeCode"], doc["Paragraph"]) == ("13", PARAGRAPH)


async def test_get_documents_by_case_number_shows_sif_names(sif: Sif) -> None:
    """GetDocuments returns Title (full), OfficialTitle (public), codes, files by SIF names."""
    case_number = await sif.new_case()
    number = await sif.new_document(case_number)
    body = await sif.ok("DocumentService/GetDocuments", {"CaseNumber": case_number})
    [doc] = body["Documents"]
    assert (doc["DocumentNumber"], doc["CaseNumber"]) == (number, case_number)
    assert doc["OfficialTitle"] == "Referat samarbeidsmøte"
    assert doc["Title"].endswith("Kari Nordmann")
    assert (doc["StatusCode"], doc["AccessCodeCode"]) == ("J", "13")
    assert "SendersReference" not in doc
    [file] = doc["Files"]
    assert (file["Title"], file["Format"], file["RelationTypeCode"], file["VersionFormatCode"]) == (
        "Referat",
        "pdf",
        "H",
        "P",
    )


async def test_get_documents_by_recno_and_by_document_number(sif: Sif) -> None:
    """GetDocuments finds one document by Recno and one by DocumentNumber."""
    case_number = await sif.new_case()
    first = await sif.ok("DocumentService/CreateDocument", document_parameter(case_number))
    second = await sif.new_document(case_number)
    by_recno = await sif.ok("DocumentService/GetDocuments", {"Recno": first["Recno"]})
    by_number = await sif.ok("DocumentService/GetDocuments", {"DocumentNumber": second})
    assert [d["DocumentNumber"] for d in by_recno["Documents"]] == [first["DocumentNumber"]]
    assert [d["DocumentNumber"] for d in by_number["Documents"]] == [second]


async def test_get_documents_of_an_unknown_case_is_empty(sif: Sif) -> None:
    """GetDocuments that finds nothing succeeds with an empty list."""
    body = await sif.ok("DocumentService/GetDocuments", {"CaseNumber": "2025/99999"})
    assert (body["Documents"], body["TotalCount"], body["TotalPageCount"]) == ([], 0, 0)


async def test_get_documents_returns_remarks_only_when_asked(sif: Sif) -> None:
    """IncludeRemarks true shows the stafett-ref remark; without it no remark is returned."""
    case_number = await sif.new_case()
    await sif.new_document(case_number)
    with_remarks = await sif.ok(
        "DocumentService/GetDocuments", {"CaseNumber": case_number, "IncludeRemarks": True}
    )
    without = await sif.ok("DocumentService/GetDocuments", {"CaseNumber": case_number})
    [remark] = with_remarks["Documents"][0]["Remarks"]
    assert (remark["Title"], remark["Content"]) == ("stafett-ref", "op-0001")
    assert without["Documents"][0]["Remarks"] == []


async def test_get_documents_returns_file_data_only_when_asked(sif: Sif) -> None:
    """IncludeFileData true returns each file's Base64Data; otherwise it is null."""
    case_number = await sif.new_case()
    await sif.new_document(case_number)
    with_data = await sif.ok(
        "DocumentService/GetDocuments", {"CaseNumber": case_number, "IncludeFileData": True}
    )
    without = await sif.ok("DocumentService/GetDocuments", {"CaseNumber": case_number})
    assert with_data["Documents"][0]["Files"][0]["Base64Data"] == b64(PDF)
    assert without["Documents"][0]["Files"][0]["Base64Data"] is None


async def test_get_documents_pages_with_max_returned_documents(sif: Sif) -> None:
    """GetDocuments pages with Page and MaxReturnedDocuments and reports the totals."""
    case_number = await sif.new_case()
    numbers = [await sif.new_document(case_number) for _ in range(3)]
    last = await sif.ok(
        "DocumentService/GetDocuments",
        {"CaseNumber": case_number, "MaxReturnedDocuments": 2, "Page": 1},
    )
    assert [d["DocumentNumber"] for d in last["Documents"]] == numbers[2:]
    assert (last["TotalCount"], last["TotalPageCount"]) == (3, 2)


async def test_create_file_adds_a_file_to_an_existing_document(sif: Sif) -> None:
    """CreateFile adds an attachment to a document; GetDocuments and the dump show it."""
    case_number = await sif.new_case()
    number = await sif.new_document(case_number)
    data = b"vedlegg"
    body = await sif.ok(
        "FileService/CreateFile",
        {"DocumentNumber": number, "Title": "Vedlegg", "Format": "txt", "Base64Data": b64(data)},
    )
    [doc] = (await sif.ok("DocumentService/GetDocuments", {"DocumentNumber": number}))["Documents"]
    assert [(f["Title"], f["RelationTypeCode"]) for f in doc["Files"]] == [
        ("Referat", "H"),
        ("Vedlegg", "V"),
    ]
    assert doc["Files"][1]["Recno"] == body["Recno"]
    [dumped] = sif.dumped("documents")
    assert dumped["Files"][1]["sha256"] == hashlib.sha256(data).hexdigest()
    assert dumped["Files"][1]["size"] == len(data)


async def test_create_file_by_document_recno(sif: Sif) -> None:
    """CreateFile finds its document by DocumentRecno too."""
    case_number = await sif.new_case()
    created = await sif.ok("DocumentService/CreateDocument", document_parameter(case_number))
    await sif.ok(
        "FileService/CreateFile",
        {"DocumentRecno": created["Recno"], "Title": "V", "Format": "txt", "Base64Data": b64(b"x")},
    )
    [doc] = (await sif.ok("DocumentService/GetDocuments", {"Recno": created["Recno"]}))["Documents"]
    assert len(doc["Files"]) == 2


async def test_reset_empties_the_archive_and_keeps_keys(sif: Sif) -> None:
    """reset() forgets cases, documents and persons, numbering restarts, the key still works."""
    await sif.new_document(await sif.new_case())
    await sif.ok("ContactService/SynchronizePrivatePerson", {"PersonalIdNumber": CHILD_NIN})
    sif.mock.reset()
    assert sif.mock.dump() == {"cases": [], "documents": [], "persons": []}
    assert await sif.new_case() == f"{NOW.year}/00001"
