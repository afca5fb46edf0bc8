"""The P360 mock's archive: the state and the rules of every SIF call it serves.

Each call takes its validated arguments (and, for writes, the parameter as received) and
returns the call-specific part of the response, or raises `SifFault`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import itertools
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import TypeVar

from adapter.mock import p360_views as views
from adapter.mock.p360_codes import CODE_TABLES, CodeRow, TableName, table_by_name
from adapter.mock.p360_models import (
    CreateCaseArgs,
    CreateDocumentArgs,
    CreateFileArgs,
    DocumentFile,
    GetCasesArgs,
    GetCodeTableRowsArgs,
    GetDocumentsArgs,
    GetPrivatePersonsArgs,
    SifContact,
    SifExternalId,
    SynchronizePrivatePersonArgs,
    UpdateCaseArgs,
)
from adapter.mock.p360_records import (
    DEFAULT_EXTERNAL_ID_TYPE,
    CaseRecord,
    DocumentRecord,
    FileRecord,
    PersonRecord,
    invalid,
)

__all__ = ["DEFAULT_PAGE_SIZE", "Archive"]

DEFAULT_PAGE_SIZE = 100
_CASE_RECNO_BASE = 200_000
_DOCUMENT_RECNO_BASE = 300_000
_FILE_RECNO_BASE = 400_000
_PERSON_RECNO_BASE = 100_000

_T = TypeVar("_T")
Result = dict[str, object]


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _require(**values: str | None) -> None:
    for name, value in values.items():
        if _blank(value):
            raise invalid(f"{name} is required")


def _code(table: TableName, value: str, field: str) -> CodeRow:
    row = CODE_TABLES[table].lookup(value)
    if row is None:
        raise invalid(f"unknown code or recno in {field}")
    return row


def _optional_code(table: TableName, value: str | None, field: str) -> CodeRow | None:
    return None if _blank(value) else _code(table, value or "", field)


def _check_paragraph(access: CodeRow | None, paragraph: str | None, field: str) -> None:
    if access is not None and access.requires_paragraph and _blank(paragraph):
        raise invalid(f"{field} {access.code} requires a Paragraph")


def _check_roles(contacts: Iterable[SifContact], field: str) -> None:
    for contact in contacts:
        _optional_code(TableName.CONTACT_ROLE, contact.Role, f"{field}.Role")


def _decode(text: str, field: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise invalid(f"{field} is not valid Base64") from None


def _like(pattern: str) -> re.Pattern[str]:
    """SQL LIKE (`%`, `_`), case-insensitive as P360's SQL Server collation."""
    parts = (".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _page(items: Sequence[_T], page: int | None, size: int | None) -> tuple[list[_T], int, int]:
    """One 0-based page of items, the total count and the page count."""
    per_page = size if size and size > 0 else DEFAULT_PAGE_SIZE
    start = max(page or 0, 0) * per_page
    return list(items[start : start + per_page]), len(items), math.ceil(len(items) / per_page)


class Archive:
    """Cases, documents, files and persons of one mock P360, numbered from the clock's year."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        """Forget every case, document, file and person; numbering starts again."""
        self._cases: list[CaseRecord] = []
        self._documents: list[DocumentRecord] = []
        self._persons: dict[str, PersonRecord] = {}
        self._case_recnos: Iterator[int] = itertools.count(_CASE_RECNO_BASE + 1)
        self._document_recnos: Iterator[int] = itertools.count(_DOCUMENT_RECNO_BASE + 1)
        self._file_recnos: Iterator[int] = itertools.count(_FILE_RECNO_BASE + 1)
        self._person_recnos: Iterator[int] = itertools.count(_PERSON_RECNO_BASE + 1)
        self._case_sequence: dict[int, int] = {}

    def dump(self) -> dict[str, object]:
        """Everything stored, as `GET /_mock/state` shows it under `p360`."""
        return {
            "cases": [case.dump() for case in self._cases],
            "documents": [doc.dump() for doc in self._documents],
            "persons": [person.dump() for person in self._persons.values()],
        }

    def _now(self) -> str:
        return self._clock().isoformat()

    # SupportService

    def code_table_rows(self, args: GetCodeTableRowsArgs) -> Result:
        """`GetCodeTableRows`: the rows of one seeded table."""
        _require(CodeTableName=args.CodeTableName)
        table = table_by_name(args.CodeTableName or "")
        if table is None:
            raise invalid("unknown CodeTableName")
        rows = [r for r in table.rows if args.IncludeExpiredValues or not r.is_expired]
        return {"CodeTableRows": [views.code_row(r) for r in rows]}

    # ContactService

    def synchronize_person(
        self, args: SynchronizePrivatePersonArgs, received: dict[str, object]
    ) -> Result:
        """`SynchronizePrivatePerson`: insert, or replace every field (blank ones clear)."""
        _require(PersonalIdNumber=args.PersonalIdNumber)
        nin = (args.PersonalIdNumber or "").strip()
        now = self._now()
        person = self._persons.get(nin)
        if person is None:
            person = PersonRecord(next(self._person_recnos), nin, {}, now, now)
            self._persons[nin] = person
        person.received = copy.deepcopy(received)
        person.changed = now
        return {"Recno": person.recno}

    def get_persons(self, args: GetPrivatePersonsArgs) -> Result:
        """`GetPrivatePersons` by Recno, PersonalIdNumber, ExternalID or Name (LIKE)."""
        found = [p for p in self._persons.values() if _person_matches(p, args)]
        page, total, pages = _page(found, args.Page, args.MaxRows)
        return {
            "PrivatePersons": [views.person(p) for p in page],
            "TotalCount": total,
            "TotalPageCount": pages,
        }

    # CaseService

    def create_case(self, args: CreateCaseArgs, received: dict[str, object]) -> Result:
        """`CreateCase`: a new case numbered `YYYY/NNNNN`; ExternalId unique per Type."""
        _require(Title=args.Title)
        if args.ExternalId is None or _blank(args.ExternalId.Id):
            raise invalid("ExternalId.Id is required")
        key = (args.ExternalId.Id or "", args.ExternalId.Type or DEFAULT_EXTERNAL_ID_TYPE)
        existing = next((c for c in self._cases if c.external_key == key), None)
        if existing is not None:
            raise invalid(f"ExternalId is already used by case {existing.number}")
        status = _optional_code(TableName.CASE_STATUS, args.Status, "Status")
        access = _optional_code(TableName.ACCESS_CODE, args.AccessCode, "AccessCode")
        _check_paragraph(access, args.Paragraph, "AccessCode")
        _check_roles(args.Contacts or (), "Contacts")
        _check_roles(args.UnregisteredContacts or (), "UnregisteredContacts")
        now = self._clock()
        year = now.year
        self._case_sequence[year] = self._case_sequence.get(year, 0) + 1
        case = CaseRecord(
            recno=next(self._case_recnos),
            number=f"{year}/{self._case_sequence[year]:05d}",
            args=args,
            received=copy.deepcopy(received),
            status=status or _code(TableName.CASE_STATUS, "B", "Status"),
            access=access,
            created=now.isoformat(),
            changed=now.isoformat(),
        )
        self._cases.append(case)
        return {"Recno": case.recno, "CaseNumber": case.number}

    def get_cases(self, args: GetCasesArgs) -> Result:
        """`GetCases` by Recno, CaseNumber, ExternalId, ContactReferenceNumber, Title (LIKE)."""
        found = [c for c in self._cases if _case_matches(c, args)]
        page, total, pages = _page(found, args.Page, args.MaxReturnedCases)
        return {
            "Cases": [views.case(c, self._persons) for c in page],
            "TotalCount": total,
            "TotalPageCount": pages,
        }

    def update_case(self, args: UpdateCaseArgs, received: dict[str, object]) -> Result:
        """`UpdateCase`: null leaves a field, `""` clears it; Contacts and ArchiveCodes append."""
        if _blank(args.CaseNumber) and (args.ExternalId is None or _blank(args.ExternalId.Id)):
            raise invalid("CaseNumber or ExternalId is required")
        case = self._find_case(args.CaseNumber, args.ExternalId)
        status = _optional_code(TableName.CASE_STATUS, args.Status, "Status")
        access = case.access
        if args.AccessCode is not None:
            access = _optional_code(TableName.ACCESS_CODE, args.AccessCode, "AccessCode")
        paragraph = case.args.Paragraph if args.Paragraph is None else args.Paragraph
        _check_paragraph(access, paragraph, "AccessCode")
        _check_roles(args.Contacts or (), "Contacts")
        _check_roles(args.UnregisteredContacts or (), "UnregisteredContacts")
        changes = {
            name: value
            for name, value in received.items()
            if value is not None and name not in ("CaseNumber", "ExternalId")
        }
        merged = copy.deepcopy(case.received)
        for name in ("Contacts", "UnregisteredContacts", "ArchiveCodes", "Remarks"):
            old, new = merged.get(name), changes.pop(name, None)
            if isinstance(new, list):
                merged[name] = (old if isinstance(old, list) else []) + copy.deepcopy(new)
        merged.update(copy.deepcopy(changes))
        case.args = CreateCaseArgs.model_validate(merged)
        case.received = merged
        case.access = access
        case.status = status or case.status
        case.changed = self._now()
        return {"Recno": case.recno, "CaseNumber": case.number}

    def _find_case(self, number: str | None, external: SifExternalId | None) -> CaseRecord:
        if not _blank(number):
            wanted = (number or "").strip()
            found = next((c for c in self._cases if c.number == wanted), None)
            if found is None:
                raise invalid("no case with that CaseNumber")
            return found
        key = (external.Id or "", external.Type or DEFAULT_EXTERNAL_ID_TYPE) if external else None
        found = next((c for c in self._cases if key and c.external_key == key), None)
        if found is None:
            raise invalid("no case with that ExternalId")
        return found

    # DocumentService

    def create_document(self, args: CreateDocumentArgs, received: dict[str, object]) -> Result:
        """`CreateDocument` on an open case: numbered `{CaseNumber}-{n}`, never deduplicated."""
        _require(Title=args.Title, Category=args.Category, Status=args.Status)
        if _blank(args.CaseNumber) and (
            args.CaseExternalId is None or _blank(args.CaseExternalId.Id)
        ):
            raise invalid("CaseNumber is required")
        case = self._find_case(args.CaseNumber, args.CaseExternalId)
        if case.is_closed:
            raise invalid(f"case {case.number} is closed and cannot receive documents")
        category = _code(TableName.DOCUMENT_CATEGORY, args.Category or "", "Category")
        status = _code(TableName.JOURNAL_STATUS, args.Status or "", "Status")
        access, paragraph = case.access, case.args.Paragraph
        if not _blank(args.AccessCode):
            access, paragraph = (
                _code(TableName.ACCESS_CODE, args.AccessCode or "", "AccessCode"),
                None,
            )
        if not _blank(args.Paragraph):
            paragraph = args.Paragraph
        _check_paragraph(access, paragraph, "AccessCode")
        _check_roles(args.Contacts or (), "Contacts")
        _check_roles(args.UnregisteredContacts or (), "UnregisteredContacts")
        raw_files = received.get("Files")
        raw_list = raw_files if isinstance(raw_files, list) else []
        files = [
            self._file(f, raw, f"Files[{i}]", main=i == 0)
            for i, (f, raw) in enumerate(zip(args.Files or (), raw_list, strict=False))
        ]
        now = self._now()
        case.documents_made += 1
        document = DocumentRecord(
            recno=next(self._document_recnos),
            number=f"{case.number}-{case.documents_made}",
            case=case,
            args=args,
            received=copy.deepcopy(received),
            category=category,
            status=status,
            access=access,
            paragraph=paragraph,
            document_date=args.DocumentDate or now,
            journal_date=args.JournalDate or (now if status.code == "J" else None),
            created=now,
            changed=now,
            remarks=args.Remarks or (),
            files=files,
        )
        self._documents.append(document)
        return {"Recno": document.recno, "DocumentNumber": document.number}

    def _file(self, fields: DocumentFile, raw: object, where: str, *, main: bool) -> FileRecord:
        prefix = f"{where}." if where else ""
        _require(**{f"{prefix}Title": fields.Title, f"{prefix}Format": fields.Format})
        content = fields.Base64Data
        data = b"" if content is None else _decode(content, f"{prefix}Base64Data")
        _optional_code(TableName.ACCESS_CODE, fields.AccessCode, f"{prefix}AccessCode")
        return FileRecord(
            recno=next(self._file_recnos),
            fields=fields,
            received=FileRecord.strip_data(raw if isinstance(raw, dict) else {}),
            data=data,
            relation_type=fields.RelationType or ("H" if main else "V"),
            created=self._now(),
        )

    def get_documents(self, args: GetDocumentsArgs) -> Result:
        """`GetDocuments` by Recno, DocumentNumber, CaseNumber; remarks and data on request."""
        found = [d for d in self._documents if _document_matches(d, args)]
        page, total, pages = _page(found, args.Page, args.MaxReturnedDocuments)
        shown = [
            views.document(d, remarks=bool(args.IncludeRemarks), data=bool(args.IncludeFileData))
            for d in page
        ]
        return {"Documents": shown, "TotalCount": total, "TotalPageCount": pages}

    # FileService

    def create_file(self, args: CreateFileArgs, received: dict[str, object]) -> Result:
        """`CreateFile`: one more file on an existing document."""
        if _blank(args.DocumentNumber) and args.DocumentRecno is None:
            raise invalid("DocumentNumber is required")
        _require(Title=args.Title, Format=args.Format, Base64Data=args.Base64Data)
        document = next((d for d in self._documents if _is_document(d, args)), None)
        if document is None:
            raise invalid("no document with that DocumentNumber")
        file = self._file(args, received, "", main=not document.files)
        document.files.append(file)
        document.changed = file.created
        return {"Recno": file.recno}


def _is_document(document: DocumentRecord, args: CreateFileArgs) -> bool:
    if not _blank(args.DocumentNumber):
        return document.number == (args.DocumentNumber or "").strip()
    return document.recno == args.DocumentRecno


def _person_matches(person: PersonRecord, args: GetPrivatePersonsArgs) -> bool:
    fields = person.received
    checks = [
        args.Recno is None or person.recno == args.Recno,
        _blank(args.PersonalIdNumber) or person.nin == (args.PersonalIdNumber or "").strip(),
        _blank(args.ExternalID) or fields.get("ExternalID") == args.ExternalID,
    ]
    if not _blank(args.Name):
        name = " ".join(
            str(fields[k]) for k in ("FirstName", "MiddleName", "LastName") if fields.get(k)
        )
        checks.append(_like(args.Name or "").fullmatch(name) is not None)
    return all(checks)


def _case_matches(case: CaseRecord, args: GetCasesArgs) -> bool:
    checks = [
        args.Recno is None or case.recno == args.Recno,
        _blank(args.CaseNumber) or case.number == (args.CaseNumber or "").strip(),
    ]
    if args.ExternalId is not None and not _blank(args.ExternalId.Id):
        ext = case.args.ExternalId
        checks.append(ext is not None and ext.Id == args.ExternalId.Id)
        if not _blank(args.ExternalId.Type):
            checks.append(
                case.external_key is not None and case.external_key[1] == args.ExternalId.Type
            )
    if not _blank(args.ContactReferenceNumber):
        wanted = (args.ContactReferenceNumber or "").strip()
        contacts = (*(case.args.Contacts or ()), *(case.args.UnregisteredContacts or ()))
        checks.append(any((c.ReferenceNumber or "").strip() == wanted for c in contacts))
    if not _blank(args.Title):
        checks.append(_like(args.Title or "").fullmatch(case.args.Title or "") is not None)
    return all(checks)


def _document_matches(document: DocumentRecord, args: GetDocumentsArgs) -> bool:
    return all(
        [
            args.Recno is None or document.recno == args.Recno,
            _blank(args.DocumentNumber) or document.number == (args.DocumentNumber or "").strip(),
            _blank(args.CaseNumber) or document.case.number == (args.CaseNumber or "").strip(),
        ]
    )
