"""How the P360 mock shows stored things in Get* results, with the names real SIF uses.

Every key here appears in the matching reference/p360-dto-samples/*Response.json.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

from adapter.mock.p360_codes import CODE_TABLES, CodeRow, TableName
from adapter.mock.p360_records import CaseRecord, DocumentRecord, FileRecord, PersonRecord

__all__ = ["case", "code_row", "document", "person"]

_ARCHIVE_CODE_KEYS = ("ArchiveCode", "ArchiveType", "Sort", "IsManualText")
_PERSON_KEYS = (
    "FirstName",
    "MiddleName",
    "LastName",
    "PersonalIdNumber",
    "ExternalID",
    "PhoneNumber",
    "MobilePhone",
    "Email",
    "PrivateAddress",
    "PostAddress",
    "WorkAddress",
    "Gender",
    "Categories",
    "CustomNo1",
    "CustomNo2",
    "CustomNo3",
    "Active",
    "Title",
    "AccessGroup",
    "AdditionalFields",
    "AlternativeEmail",
)


def code_row(row: CodeRow) -> dict[str, object]:
    """A row of `GetCodeTableRows`."""
    return {
        "Recno": row.recno,
        "Code": row.code,
        "Description": row.description,
        "IsExpired": row.is_expired,
    }


def _role(value: str | None) -> str | None:
    row = CODE_TABLES[TableName.CONTACT_ROLE].lookup(value) if value else None
    return row.description if row else value


def person(record: PersonRecord) -> dict[str, object]:
    """A `PrivatePersons` item: the synchronised fields, unknown ones left out."""
    shown: dict[str, object] = {"Recno": record.recno}
    shown.update({key: record.received.get(key) for key in _PERSON_KEYS})
    shown.update(CreatedDate=record.created, ModifiedDate=record.changed)
    return shown


def case(record: CaseRecord, persons: Mapping[str, PersonRecord]) -> dict[str, object]:
    """A `Cases` item of `GetCases`; Status is the case status code (B, A, …)."""
    args = record.args
    ext = record.external_key
    raw_codes = record.received.get("ArchiveCodes")
    archive_codes = [
        {k: item[k] for k in _ARCHIVE_CODE_KEYS if k in item}
        for item in (raw_codes if isinstance(raw_codes, list) else [])
        if isinstance(item, dict)
    ]
    contacts: list[dict[str, object]] = []
    for contact in args.Contacts or ():
        known = persons.get((contact.ReferenceNumber or "").strip())
        contacts.append(
            {
                "Role": _role(contact.Role),
                "Referencenumber": contact.ReferenceNumber,
                "Recno": known.recno if known else None,
            }
        )
    for contact in args.UnregisteredContacts or ():
        contacts.append({"Role": _role(contact.Role), "Referencenumber": contact.ReferenceNumber})
    return {
        "Recno": record.recno,
        "CaseNumber": record.number,
        "ExternalId": {"Id": ext[0], "Type": ext[1]} if ext else None,
        "Title": args.Title,
        "UnofficialTitle": args.UnofficialTitle or args.Title,
        "Status": record.status.code,
        "Date": record.created,
        "CreatedDate": record.created,
        "LastChangedDate": record.changed,
        "AccessCodeCode": record.access.code if record.access else None,
        "AccessCodeDescription": record.access.description if record.access else None,
        "Paragraph": args.Paragraph,
        "ResponsibleEnterprise": (
            {"Referencenumber": args.ResponsibleEnterpriseNumber}
            if args.ResponsibleEnterpriseNumber
            else None
        ),
        "ArchiveCodes": archive_codes,
        "Contacts": contacts,
    }


def _file(record: FileRecord, *, data: bool) -> dict[str, object]:
    fields = record.fields
    return {
        "Recno": record.recno,
        "Title": fields.Title,
        "Format": fields.Format,
        "Base64Data": base64.b64encode(record.data).decode("ascii") if data else None,
        "RelationTypeCode": record.relation_type,
        "VersionFormatCode": fields.VersionFormat or "P",
        "StatusCode": fields.Status or "F",
        "AccessCodeCode": fields.AccessCode,
        "CategoryCode": fields.Category,
        "Note": fields.Note,
        "LastChangedDate": record.created,
    }


def document(record: DocumentRecord, *, remarks: bool, data: bool) -> dict[str, object]:
    """A `Documents` item of `GetDocuments`: `Title` is the full title, `OfficialTitle` the
    public one; `SendersReference` is never returned, as in real SIF."""
    args = record.args
    case_key = record.case.external_key
    contacts = [
        {"Role": _role(c.Role), "ReferenceNumber": c.ReferenceNumber, "ExternalId": c.ExternalId}
        for c in (*(args.Contacts or ()), *(args.UnregisteredContacts or ()))
    ]
    shown_remarks = [
        {
            "Title": remark.Title,
            "Content": remark.Content,
            "TypeCode": remark.RemarkType,
            "CreatedDate": record.created,
        }
        for remark in (record.remarks if remarks else ())
    ]
    return {
        "Recno": record.recno,
        "DocumentNumber": record.number,
        "CaseNumber": record.case.number,
        "CaseRecno": str(record.case.recno),
        "CaseExternalId": {"Id": case_key[0], "Type": case_key[1]} if case_key else None,
        "Title": args.UnofficialTitle or args.Title,
        "OfficialTitle": args.Title,
        "DocumentDate": record.document_date,
        "JournalDate": record.journal_date,
        "CreatedDate": record.created,
        "LastChangedDate": record.changed,
        "Category": {
            "Recno": record.category.recno,
            "Code": record.category.code,
            "Description": record.category.description,
        },
        "StatusCode": record.status.code,
        "StatusDescription": record.status.description,
        "AccessCodeCode": record.access.code if record.access else None,
        "AccessCodeDescription": record.access.description if record.access else None,
        "AccessCodeRecno": str(record.access.recno) if record.access else None,
        "Paragraph": record.paragraph,
        "Contacts": contacts,
        "Files": [_file(f, data=data) for f in record.files],
        "Remarks": shown_remarks,
    }
