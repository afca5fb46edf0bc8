"""What every repository shares: the database handle and the dialect's upsert `insert`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Table
from sqlalchemy.dialects import postgresql, sqlite

from adapter.store.database import Database

__all__ = ["RepoBase", "as_dict", "dialect_insert"]


def as_dict(row: Row[Any]) -> dict[str, Any]:
    """A result row as a plain dict (for `Model.model_validate`)."""
    return row._asdict()


def dialect_insert(table: Table, *, postgresql_: bool) -> sqlite.Insert | postgresql.Insert:
    """An INSERT that supports `on_conflict_do_nothing/update` on the given backend."""
    return postgresql.insert(table) if postgresql_ else sqlite.insert(table)


class RepoBase:
    """Base of the repositories that `Store` holds: each works on the one shared `Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _upsert(self, table: Table) -> sqlite.Insert | postgresql.Insert:
        """An INSERT that supports `on_conflict_do_nothing/update` on this backend."""
        return dialect_insert(table, postgresql_=self._db.is_postgresql)
