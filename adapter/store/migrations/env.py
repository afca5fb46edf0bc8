"""Alembic environment: runs on a connection handed over by `adapter.store.migrate`, or on
its own (the `alembic` command) against `sqlalchemy.url` or `STAFETT_DATABASE_URL`."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection

from adapter.store.database import make_engine
from adapter.store.tables import metadata

_DEFAULT_URL = "sqlite+aiosqlite:///var/stafett.db"


def _url() -> str:
    return (
        context.config.get_main_option("sqlalchemy.url")
        or os.environ.get("STAFETT_DATABASE_URL")
        or _DEFAULT_URL
    )


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = make_engine(_url())
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run)
    finally:
        await engine.dispose()


def _main() -> None:
    if context.is_offline_mode():
        context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async())


_main()
