"""Opening the store: engine per backend, reachability check, migrations.

SQLite, the embedded default, upgrades its own schema on open. PostgreSQL never does (an
operator runs `stafett db upgrade` once per release, not every replica at start-up) and
refuses to open while migrations are pending.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from adapter.errors import StoreError
from adapter.store.database import (
    Clock,
    Database,
    backend_of,
    ensure_reachable,
    make_engine,
    safe_url,
    utc_now,
)
from adapter.store.migrate import pending_on, upgrade_on
from adapter.store.store import Store

__all__ = ["SUPPORTED_BACKENDS", "open_store"]

SUPPORTED_BACKENDS = ("sqlite", "postgresql")


async def open_store(
    url: str,
    *,
    auto_upgrade: bool | None = None,
    clock: Clock = utc_now,
    connect_args: Mapping[str, Any] | None = None,
) -> Store:
    """Open the store at `url` (`sqlite+aiosqlite:///path` or `postgresql+asyncpg://…`).

    `auto_upgrade` defaults to True for SQLite and False for PostgreSQL; without it a
    database with pending migrations raises `StoreError`. An unreachable database raises
    `StoreError` naming the URL without its password. `clock` is the time source of rows
    stamped by the store itself (received_at, updated_at); `connect_args` go to the driver
    (e.g. asyncpg ``server_settings``).
    """
    try:
        backend = backend_of(url)
    except (ArgumentError, ValueError) as exc:
        raise StoreError(f"not a database URL: {safe_url(url) if '://' in url else url!r}") from exc
    if backend not in SUPPORTED_BACKENDS:
        raise StoreError(
            f"unsupported database {backend!r}: use sqlite+aiosqlite or postgresql+asyncpg"
        )
    try:
        engine = make_engine(url, connect_args=connect_args)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"no driver for {safe_url(url)}: {exc}") from exc
    try:
        await ensure_reachable(engine)
        upgrade = backend == "sqlite" if auto_upgrade is None else auto_upgrade
        if upgrade:
            await upgrade_on(engine)
        else:
            todo = await pending_on(engine)
            if todo:
                raise StoreError(
                    f"database has pending migrations ({', '.join(todo)}): run 'stafett db upgrade'"
                )
    except BaseException:
        await engine.dispose()
        raise
    return Store(Database(engine, clock=clock))
