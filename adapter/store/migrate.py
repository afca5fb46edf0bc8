"""Schema migrations (Alembic, scripts in `migrations/`): apply them, or list what is pending.

Works with a URL given programmatically; no `alembic.ini` and no particular working
directory are needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapter.errors import StoreError
from adapter.store.database import Database, ensure_reachable, make_engine

__all__ = ["MIGRATIONS_DIR", "alembic_config", "pending", "pending_on", "upgrade", "upgrade_on"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_ADVISORY_LOCK = 0x57AF_E77  # serialises concurrent upgrades on PostgreSQL


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic `Config` pointing at the packaged migrations (and `connection`, if given)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _pending_sync(connection: Connection) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    current = MigrationContext.configure(connection).get_current_heads()
    applied: set[str] = set()
    try:
        for head in current:
            applied.update(rev.revision for rev in script.iterate_revisions(head, "base"))
    except (CommandError, RevisionError) as exc:
        raise StoreError(
            f"the database is at revision {', '.join(current)}, which this version of "
            "stafett does not know: upgrade stafett"
        ) from exc
    return [
        rev.revision
        for rev in reversed(list(script.walk_revisions()))
        if rev.revision not in applied
    ]


def _upgrade_sync(connection: Connection) -> list[str]:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
    todo = _pending_sync(connection)
    if todo:
        command.upgrade(alembic_config(connection), "head")
    return todo


async def pending_on(engine: AsyncEngine) -> list[str]:
    """Revisions not yet applied to the database behind `engine`, oldest first."""
    async with engine.connect() as conn:
        return await conn.run_sync(_pending_sync)


async def upgrade_on(engine: AsyncEngine) -> list[str]:
    """Apply every pending revision in one transaction; returns the revisions applied."""
    db = Database(engine)
    return await db.write(lambda conn: conn.run_sync(_upgrade_sync))


async def pending(url: str, *, connect_args: Mapping[str, Any] | None = None) -> list[str]:
    """Revisions not yet applied to the database at `url`, oldest first.

    Raises `StoreError` when the database is unreachable.
    """
    engine = make_engine(url, connect_args=connect_args)
    try:
        await ensure_reachable(engine)
        return await pending_on(engine)
    finally:
        await engine.dispose()


async def upgrade(url: str, *, connect_args: Mapping[str, Any] | None = None) -> list[str]:
    """Bring the database at `url` to the newest revision; returns the revisions applied.

    Concurrent upgrades are safe (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: an advisory lock).
    Raises `StoreError` when the database is unreachable.
    """
    engine = make_engine(url, connect_args=connect_args)
    try:
        await ensure_reachable(engine)
        return await upgrade_on(engine)
    finally:
        await engine.dispose()
