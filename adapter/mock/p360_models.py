"""Request models of the SIF calls the P360 mock serves.

Each model declares the fields the mock reads, with SIF's own names. Every other field of the
real request objects (reference/p360-dto-samples/*Args.json) and any unknown field is accepted
and ignored, as P360 "validates only what the contract says". Every field is optional here:
required-ness is checked by the mock itself so that it answers with SIF's error envelope.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = [
    "CreateCaseArgs",
    "CreateDocumentArgs",
    "CreateFileArgs",
    "DocumentFile",
    "GetCasesArgs",
    "GetCodeTableRowsArgs",
    "GetDocumentsArgs",
    "GetPrivatePersonsArgs",
    "Remark",
    "SifArgs",
    "SifContact",
    "SifExternalId",
    "SynchronizePrivatePersonArgs",
    "UpdateCaseArgs",
]


class SifArgs(BaseModel):
    """Base of every SIF object: frozen, lenient about extras, numbers allowed for strings."""

    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True)


class SifExternalId(SifArgs):
    """A case's key in another system; unique per `Type` (default `"SI WS Case"`)."""

    Id: str | None = None
    Type: str | None = None


class Remark(SifArgs):
    """A remark (merknad) on a case or document."""

    Title: str | None = None
    Content: str | None = None
    RemarkType: str | None = None


class SifContact(SifArgs):
    """A registered or unregistered contact; only the role is checked."""

    Role: str | None = None
    ReferenceNumber: str | None = None
    ExternalId: str | None = None
    IsUnofficial: bool | None = None


class DocumentFile(SifArgs):
    """A file of `CreateDocument`, and the file fields of `CreateFile`."""

    Title: str | None = None
    Format: str | None = None
    Base64Data: str | None = None
    RelationType: str | None = None
    VersionFormat: str | None = None
    Status: str | None = None
    AccessCode: str | None = None
    Note: str | None = None
    Category: str | None = None


class GetCodeTableRowsArgs(SifArgs):
    """`SupportService/GetCodeTableRows`."""

    CodeTableName: str | None = None
    IncludeExpiredValues: bool | None = None


class SynchronizePrivatePersonArgs(SifArgs):
    """`ContactService/SynchronizePrivatePerson`: upsert by `PersonalIdNumber`."""

    PersonalIdNumber: str | None = None
    FirstName: str | None = None
    LastName: str | None = None


class GetPrivatePersonsArgs(SifArgs):
    """`ContactService/GetPrivatePersons`."""

    Recno: int | None = None
    PersonalIdNumber: str | None = None
    ExternalID: str | None = None
    Name: str | None = None
    Page: int | None = None
    MaxRows: int | None = None


class CreateCaseArgs(SifArgs):
    """`CaseService/CreateCase`."""

    Title: str | None = None
    UnofficialTitle: str | None = None
    ExternalId: SifExternalId | None = None
    Status: str | None = None
    AccessCode: str | None = None
    Paragraph: str | None = None
    ResponsibleEnterpriseNumber: str | None = None
    Contacts: tuple[SifContact, ...] | None = None
    UnregisteredContacts: tuple[SifContact, ...] | None = None


class UpdateCaseArgs(CreateCaseArgs):
    """`CaseService/UpdateCase`: by `CaseNumber` or `ExternalId`; null means unchanged."""

    CaseNumber: str | None = None


class GetCasesArgs(SifArgs):
    """`CaseService/GetCases`: the given criteria must all match."""

    Recno: int | None = None
    CaseNumber: str | None = None
    ExternalId: SifExternalId | None = None
    ContactReferenceNumber: str | None = None
    Title: str | None = None
    Page: int | None = None
    MaxReturnedCases: int | None = None


class CreateDocumentArgs(SifArgs):
    """`DocumentService/CreateDocument`."""

    CaseNumber: str | None = None
    CaseExternalId: SifExternalId | None = None
    Title: str | None = None
    UnofficialTitle: str | None = None
    Category: str | None = None
    Status: str | None = None
    AccessCode: str | None = None
    Paragraph: str | None = None
    DocumentDate: str | None = None
    JournalDate: str | None = None
    Contacts: tuple[SifContact, ...] | None = None
    UnregisteredContacts: tuple[SifContact, ...] | None = None
    Remarks: tuple[Remark, ...] | None = None
    Files: tuple[DocumentFile, ...] | None = None


class GetDocumentsArgs(SifArgs):
    """`DocumentService/GetDocuments`: the given criteria must all match."""

    Recno: int | None = None
    DocumentNumber: str | None = None
    CaseNumber: str | None = None
    IncludeRemarks: bool | None = None
    IncludeFileData: bool | None = None
    Page: int | None = None
    MaxReturnedDocuments: int | None = None


class CreateFileArgs(DocumentFile):
    """`FileService/CreateFile`: one more file on an existing document."""

    DocumentNumber: str | None = None
    DocumentRecno: int | None = None
