"""Integration fixtures: a real store on SQLite (a temp file) and, when
STAFETT_TEST_POSTGRES_URL is set, on PostgreSQL in a schema of its own per test session."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from adapter.store import Store, open_store, upgrade
from adapter.store.memory import MemoryStore
from adapter.store.tables import metadata
from tests.support.clock import T0, FakeClock

__all__ = ["T0", "FakeClock", "PgSchemas", "backend_store"]  # what tests import from here

PG_ENV = "STAFETT_TEST_POSTGRES_URL"
T = TypeVar("T")


@dataclass(frozen=True)
class PgSchemas:
    """Makes (and finally drops) PostgreSQL schemas unique to this test session."""

    url: str
    created: list[str] = field(default_factory=list)

    def new(self) -> str:
        name = f"stafett_test_{secrets.token_hex(6)}"
        _run(_pg_exec(self.url, f'CREATE SCHEMA "{name}"'))
        self.created.append(name)
        return name

    @staticmethod
    def connect_args(schema: str) -> dict[str, Any]:
        return {"server_settings": {"search_path": schema}}


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a loop of its own (also from inside a running loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _pg_exec(url: str, *statements: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_schemas() -> Iterator[PgSchemas]:
    """PostgreSQL schemas for this session; skips when STAFETT_TEST_POSTGRES_URL is unset."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set: PostgreSQL tests skipped")
    schemas = PgSchemas(url)
    yield schemas
    if schemas.created:
        drops = [f'DROP SCHEMA IF EXISTS "{name}" CASCADE' for name in schemas.created]
        _run(_pg_exec(url, *drops))


@pytest.fixture(scope="session")
def pg_store_schema(pg_schemas: PgSchemas) -> str:
    """One migrated schema shared by the session's PostgreSQL store tests."""
    schema = pg_schemas.new()
    _run(upgrade(pg_schemas.url, connect_args=PgSchemas.connect_args(schema)))
    return schema


@pytest.fixture
def clock() -> FakeClock:
    """The store's clock, at a fixed instant until a test moves it."""
    return FakeClock()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file in a directory that does not exist yet."""
    return f"sqlite+aiosqlite:///{tmp_path / 'var' / 'stafett.db'}"


@contextlib.asynccontextmanager
async def backend_store(
    request: pytest.FixtureRequest, backend: str, sqlite_url: str, clock: FakeClock
) -> AsyncIterator[Store]:
    """A migrated, empty store on `backend` (`sqlite` or `postgresql`; the latter skipped
    without STAFETT_TEST_POSTGRES_URL, its tables emptied first)."""
    if backend == "sqlite":
        async with await open_store(sqlite_url, clock=clock) as opened:
            yield opened
        return
    schemas: PgSchemas = request.getfixturevalue("pg_schemas")
    schema: str = request.getfixturevalue("pg_store_schema")
    opened = await open_store(schemas.url, clock=clock, connect_args=PgSchemas.connect_args(schema))
    async with opened:
        names = ", ".join(f'"{schema}"."{t.name}"' for t in metadata.sorted_tables)
        async with opened.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
        yield opened


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(
    request: pytest.FixtureRequest, sqlite_url: str, clock: FakeClock
) -> AsyncIterator[Store]:
    """A migrated, empty store on each backend (PostgreSQL tables emptied before each test)."""
    async with backend_store(request, request.param, sqlite_url, clock) as opened:
        yield opened


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def ports(
    request: pytest.FixtureRequest, sqlite_url: str, clock: FakeClock
) -> AsyncIterator[MemoryStore | Store]:
    """An empty store on each implementation of its ports: in memory, SQLite, PostgreSQL
    (the contract suites run on it)."""
    if request.param == "memory":
        yield MemoryStore(clock)
        return
    async with backend_store(request, request.param, sqlite_url, clock) as store:
        yield store
