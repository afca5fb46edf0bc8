"""What the P360 mock stores: cases, documents, files and persons, each with what it received."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field

from adapter.mock.p360_codes import CodeRow
from adapter.mock.p360_models import CreateCaseArgs, CreateDocumentArgs, DocumentFile, Remark

__all__ = [
    "DEFAULT_EXTERNAL_ID_TYPE",
    "CaseRecord",
    "DocumentRecord",
    "FileRecord",
    "PersonRecord",
    "SifFault",
    "invalid",
]

DEFAULT_EXTERNAL_ID_TYPE = "SI WS Case"

_FILE_DATA_KEYS = ("Base64Data", "Data")


class SifFault(Exception):
    """A business error: P360 answers it with HTTP 200 and `Successful: false`.

    `message` is a fixed text starting with `Validation:` (bad or missing input) or `Error:`
    (anything else); it never quotes a value the client sent except case and document numbers.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def invalid(text: str) -> SifFault:
    """A `Validation:` fault with the given fixed text."""
    return SifFault(f"Validation: {text}")


@dataclass(slots=True)
class FileRecord:
    """One stored file: its fields as received (without data), and its bytes."""

    recno: int
    fields: DocumentFile
    received: dict[str, object]
    data: bytes
    relation_type: str
    created: str

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the stored bytes."""
        return hashlib.sha256(self.data).hexdigest()

    def dump(self) -> dict[str, object]:
        """The file as received, with `sha256` and `size` in place of its data."""
        shown = {k: copy.deepcopy(v) for k, v in self.received.items() if k not in _FILE_DATA_KEYS}
        shown.update(Recno=self.recno, sha256=self.sha256, size=len(self.data))
        return shown

    @staticmethod
    def strip_data(received: dict[str, object]) -> dict[str, object]:
        """A deep copy of a received file object without its content fields."""
        return {k: copy.deepcopy(v) for k, v in received.items() if k not in _FILE_DATA_KEYS}


@dataclass(slots=True)
class CaseRecord:
    """One archive case (sak)."""

    recno: int
    number: str
    args: CreateCaseArgs
    received: dict[str, object]
    status: CodeRow
    access: CodeRow | None
    created: str
    changed: str
    documents_made: int = 0

    @property
    def external_key(self) -> tuple[str, str] | None:
        """`(Id, Type)` of the case's ExternalId, Type defaulted as P360 does."""
        ext = self.args.ExternalId
        if ext is None or not ext.Id:
            return None
        return ext.Id, ext.Type or DEFAULT_EXTERNAL_ID_TYPE

    @property
    def is_closed(self) -> bool:
        """Whether the case is avsluttet (status A, recno 6)."""
        return self.status.code == "A"

    def dump(self) -> dict[str, object]:
        """The CreateCase parameter as received (with updates), plus Recno, CaseNumber, Status."""
        shown = copy.deepcopy(self.received)
        shown.update(Recno=self.recno, CaseNumber=self.number, Status=self.status.code)
        return shown


@dataclass(slots=True)
class DocumentRecord:
    """One document (journalpost) of a case, with its files."""

    recno: int
    number: str
    case: CaseRecord
    args: CreateDocumentArgs
    received: dict[str, object]
    category: CodeRow
    status: CodeRow
    access: CodeRow | None
    paragraph: str | None
    document_date: str
    journal_date: str | None
    created: str
    changed: str
    remarks: tuple[Remark, ...]
    files: list[FileRecord] = field(default_factory=list)

    def dump(self) -> dict[str, object]:
        """The CreateDocument parameter as received, plus numbers, files shown by hash."""
        shown = {k: copy.deepcopy(v) for k, v in self.received.items() if k != "Files"}
        shown.update(
            Recno=self.recno,
            DocumentNumber=self.number,
            CaseNumber=self.case.number,
            Files=[f.dump() for f in self.files],
        )
        return shown


@dataclass(slots=True)
class PersonRecord:
    """One private person (kontakt), keyed by PersonalIdNumber."""

    recno: int
    nin: str
    received: dict[str, object]
    created: str
    changed: str

    def dump(self) -> dict[str, object]:
        """The last SynchronizePrivatePerson parameter as received, plus Recno."""
        shown = copy.deepcopy(self.received)
        shown["Recno"] = self.recno
        return shown
