"""The seeded SIF code tables of the P360 mock, and the lookup of `"code"` / `"recno:N"` values."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

__all__ = [
    "CODE_TABLES",
    "CodeRow",
    "CodeTable",
    "TableName",
    "table_by_name",
]


class TableName(StrEnum):
    """The code tables the mock serves, under the names `GetCodeTableRows` takes."""

    CASE_STATUS = "code table: Case status"
    JOURNAL_STATUS = "code table: Journal status"
    DOCUMENT_CATEGORY = "code table: Document category"
    ACCESS_CODE = "code table: Access code"
    CONTACT_ROLE = "code table: Contact role"


class CodeRow(BaseModel):
    """One row of a code table; `requires_paragraph` only matters for access codes."""

    model_config = ConfigDict(frozen=True)

    recno: int
    code: str
    description: str
    is_expired: bool = False
    requires_paragraph: bool = False


class CodeTable(BaseModel):
    """A code table; `match_description` lets a value name the row by its description."""

    model_config = ConfigDict(frozen=True)

    name: TableName
    rows: tuple[CodeRow, ...]
    match_description: bool = False

    def lookup(self, value: str) -> CodeRow | None:
        """The row a value names: `"recno:N"`, the code, or (if allowed) the description."""
        text = value.strip()
        if text.lower().startswith("recno:"):
            number = text[len("recno:") :].strip()
            return next((row for row in self.rows if str(row.recno) == number), None)
        for row in self.rows:
            if row.code == text:
                return row
        if self.match_description:
            folded = text.casefold()
            return next((row for row in self.rows if row.description.casefold() == folded), None)
        return None


def _rows(*rows: tuple[int, str, str]) -> tuple[CodeRow, ...]:
    return tuple(CodeRow(recno=recno, code=code, description=text) for recno, code, text in rows)


CODE_TABLES: dict[TableName, CodeTable] = {
    TableName.CASE_STATUS: CodeTable(
        name=TableName.CASE_STATUS,
        rows=_rows(
            (5, "B", "Under behandling"),
            (6, "A", "Avsluttet"),
            (4, "R", "Reservert"),
            (8, "U", "Utgår"),
        ),
    ),
    TableName.JOURNAL_STATUS: CodeTable(
        name=TableName.JOURNAL_STATUS,
        rows=_rows(
            (1, "R", "Reservert"),
            (4, "F", "Ferdig fra saksbehandler"),
            (5, "E", "Ekspedert"),
            (6, "J", "Journalført"),
            (7, "A", "Arkivert"),
            (8, "U", "Utgår"),
        ),
    ),
    TableName.DOCUMENT_CATEGORY: CodeTable(
        name=TableName.DOCUMENT_CATEGORY,
        rows=_rows(
            (110, "110", "Dokument inn"),
            (111, "111", "Dokument ut"),
            (112, "112", "Referat"),
            (113, "113", "Notat med oppfølging"),
            (114, "114", "E-post inn"),
            (115, "115", "E-post ut"),
            (60005, "60005", "Notat uten oppfølging"),
        ),
    ),
    TableName.ACCESS_CODE: CodeTable(
        name=TableName.ACCESS_CODE,
        rows=(
            CodeRow(recno=1, code="U", description="Offentlig"),
            CodeRow(recno=13, code="13", description="Taushetsplikt", requires_paragraph=True),
            CodeRow(recno=14, code="14", description="Organinterne dokumenter"),
            CodeRow(recno=26, code="26", description="Personalsaker", requires_paragraph=True),
        ),
    ),
    TableName.CONTACT_ROLE: CodeTable(
        name=TableName.CONTACT_ROLE,
        rows=_rows(
            (5, "5", "Avsender"),
            (6, "6", "Mottaker"),
            (8, "8", "Kopi til"),
            (9, "9", "Sakspart"),
        ),
        match_description=True,
    ),
}


def table_by_name(name: str) -> CodeTable | None:
    """The table `GetCodeTableRows` names, case-insensitively, with or without `code table: `."""
    wanted = name.strip().casefold()
    for table in CODE_TABLES.values():
        full = table.name.value.casefold()
        if wanted in (full, full.removeprefix("code table: ")):
            return table
    return None
