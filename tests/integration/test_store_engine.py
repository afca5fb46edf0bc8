"""Opening the store: SQLite set-up and self-upgrade, PostgreSQL's refusal, migrations, time."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, insert, select, text
from sqlalchemy.exc import OperationalError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapter.errors import StoreError
from adapter.planning.operations import Operation, OpKind
from adapter.store import Store, Target, open_store, pending, upgrade
from adapter.store.database import Database, make_engine
from adapter.store.tables import links, metadata, operations
from tests.integration.conftest import FakeClock, PgSchemas


def _diff(conn: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(conn), metadata))


async def test_sqlite_creates_its_directory_upgrades_and_runs_in_wal(sqlite_url: str) -> None:
    """Opening a new SQLite file makes var/, applies every migration, and sets WAL + timeouts."""
    assert await pending(sqlite_url) == ["0001", "0002", "0003", "0004", "0005"]
    async with await open_store(sqlite_url) as store:
        assert await pending(sqlite_url) == []
        async with store.engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
            busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one()
            fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one()
        assert (mode, busy, fks) == ("wal", 30000, 1)
        await store.check()


async def test_sqlite_without_auto_upgrade_refuses_pending_migrations(sqlite_url: str) -> None:
    """With auto_upgrade=False an empty SQLite database is refused with the command to run."""
    pending_all = r"pending migrations \(0001, 0002, 0003, 0004, 0005\).*stafett db upgrade"
    with pytest.raises(StoreError, match=pending_all):
        await open_store(sqlite_url, auto_upgrade=False)


async def test_a_database_newer_than_the_code_is_refused(sqlite_url: str) -> None:
    """A revision this version does not know is reported instead of being guessed at."""
    async with await open_store(sqlite_url) as store, store.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = 'from-the-future'"))
    with pytest.raises(StoreError, match="from-the-future"):
        await open_store(sqlite_url)


async def test_migrations_create_exactly_the_tables_module_on_sqlite(sqlite_url: str) -> None:
    """The migrated SQLite schema has no difference from `tables.metadata`."""
    async with await open_store(sqlite_url) as store, store.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_postgresql_refuses_pending_migrations_until_upgraded(pg_schemas: PgSchemas) -> None:
    """An empty PostgreSQL schema is not upgraded on open: StoreError until `upgrade` ran."""
    args = PgSchemas.connect_args(pg_schemas.new())
    with pytest.raises(StoreError) as caught:
        await open_store(pg_schemas.url, connect_args=args)
    assert str(caught.value) == (
        "database has pending migrations (0001, 0002, 0003, 0004, 0005): run 'stafett db upgrade'"
    )
    assert await upgrade(pg_schemas.url, connect_args=args) == [
        "0001",
        "0002",
        "0003",
        "0004",
        "0005",
    ]
    assert await upgrade(pg_schemas.url, connect_args=args) == []
    async with await open_store(pg_schemas.url, connect_args=args) as store:
        await store.check()
        async with store.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []


async def test_unreachable_database_is_a_clear_store_error_without_password() -> None:
    """A refused connection raises StoreError naming host and cause, the password masked."""
    url = "postgresql+asyncpg://stafett:hemmelig-passord@127.0.0.1:1/stafett"
    with pytest.raises(StoreError, match="database unreachable at") as caught:
        await open_store(url)
    assert "hemmelig-passord" not in str(caught.value)
    assert "127.0.0.1:1" in str(caught.value)
    with pytest.raises(StoreError, match="database unreachable"):
        await upgrade(url)


async def test_unsupported_database_is_refused() -> None:
    """A URL of a backend stafett does not support is a StoreError, not a driver traceback."""
    with pytest.raises(StoreError, match="unsupported database 'mysql'"):
        await open_store("mysql+aiomysql://u:p@localhost/x")


async def test_times_round_trip_as_aware_utc(store: Store, clock: FakeClock) -> None:
    """A datetime in another offset comes back as the same instant in UTC."""
    oslo = datetime(2026, 11, 2, 10, 15, tzinfo=timezone(timedelta(hours=1)))
    clock.now = oslo
    await store.cursors.set_cursor("modum", "feed", "x")
    [cursor] = await store.cursors.list_cursors()
    assert cursor.updated_at == oslo
    assert cursor.updated_at.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused(store: Store) -> None:
    """A naive datetime never reaches the database (it would be ambiguous)."""
    with pytest.raises(StatementError, match="naive datetime"):
        await store.outbox.claim_operations("w1", datetime(2026, 11, 2, 10, 0))


async def test_sqlite_lock_errors_are_retried_then_succeed(sqlite_url: str) -> None:
    """'database is locked' is retried with a backoff (fake sleep); other errors are not."""
    engine = make_engine(sqlite_url)
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    db = Database(engine, sleep=fake_sleep)
    failures = iter([True, True, False])

    async def flaky(conn: AsyncConnection) -> int:
        if next(failures):
            raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
        return int((await conn.execute(select(1))).scalar_one())

    async def broken(conn: AsyncConnection) -> int:
        raise OperationalError("SELECT", {}, Exception("disk I/O error"))

    try:
        assert await db.write(flaky) == 1
        assert len(waits) == 2 and waits[0] < waits[1]
        fn: Callable[[AsyncConnection], Awaitable[int]] = broken
        with pytest.raises(OperationalError, match="disk I/O"):
            await db.write(fn)
        assert len(waits) == 2
    finally:
        await engine.dispose()


async def test_postgresql_claim_skips_rows_locked_by_another_claimer(
    pg_schemas: PgSchemas, pg_store_schema: str, clock: FakeClock
) -> None:
    """A row locked by another transaction is skipped at once (SKIP LOCKED), not waited for."""
    args = PgSchemas.connect_args(pg_store_schema)
    async with await open_store(pg_schemas.url, connect_args=args, clock=clock) as store:
        async with store.engine.begin() as conn:
            await conn.execute(operations.delete())
        ops = [
            Operation(
                op_ref=f"stafett:modum:L{n}:create-goal:G1",
                tenant="modum",
                case_id=f"L{n}",
                target=Target.SAMSPILL,
                kind=OpKind.CREATE_GOAL,
            )
            for n in (1, 2)
        ]
        await store.outbox.add_operations(ops)
        async with store.engine.connect() as other, other.begin():
            await other.execute(
                select(operations.c.id)
                .where(operations.c.op_ref == ops[0].op_ref)
                .with_for_update()
            )
            claimed = await store.outbox.claim_operations("w1", clock.now)
            assert [c.op_ref for c in claimed] == [ops[1].op_ref]
        async with store.engine.begin() as conn:
            await conn.execute(operations.delete())


def test_sqlite_database_path_may_be_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default relative URL (var/stafett.db) creates var/ under the working directory."""
    monkeypatch.chdir(tmp_path)
    engine = make_engine("sqlite+aiosqlite:///var/stafett.db")
    assert (tmp_path / "var").is_dir()
    assert engine.dialect.name == "sqlite"


def _put_link(conn: Connection, ref: str, now: datetime) -> None:
    conn.execute(
        insert(links).values(
            tenant="modum",
            case_id="C1",
            target=Target.SAMSPILL,
            internal_ref=ref,
            remote_id=f"R-{ref}",
            created_at=now,
            updated_at=now,
        )
    )


async def test_a_synchronous_write_commits_whole_or_not_at_all(
    store: Store, clock: FakeClock
) -> None:
    """`write_sync` (the dispatcher's turn; SQLite: on its writer thread) commits what the
    function did when it returns and keeps none of it when it raises."""
    db: Database = store._db

    def good(conn: Connection) -> str:
        _put_link(conn, "goal:G1", clock())
        return "ok"

    def bad(conn: Connection) -> str:
        _put_link(conn, "goal:G2", clock())
        raise RuntimeError("halfway")

    assert await db.write_sync(good) == "ok"
    with pytest.raises(RuntimeError, match="halfway"):
        await db.write_sync(bad)
    got = await store.links.get_links("modum", "C1", Target.SAMSPILL, ["goal:G1", "goal:G2"])
    assert got == {"goal:G1": "R-goal:G1"}


async def test_sqlite_synchronous_writes_wait_for_locks_and_the_thread_ends_on_close(
    sqlite_url: str, clock: FakeClock
) -> None:
    """A synchronous write waits on the in-process writer queue behind an async write, a
    'database is locked' is retried like `write`'s, and closing the store ends its thread."""
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    async with await open_store(sqlite_url, clock=clock):
        pass  # migrated
    db = Database(make_engine(sqlite_url), clock=clock, sleep=fake_sleep)
    order: list[str] = []
    failures = iter([True, False])

    def flaky(conn: Connection) -> None:
        if next(failures):
            raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
        order.append("sync")
        _put_link(conn, "goal:G1", clock())

    async def slow(conn: AsyncConnection) -> None:
        await asyncio.sleep(0.05)
        order.append("async")

    try:
        await asyncio.gather(db.write(slow), db.write_sync(flaky))
        assert order == ["async", "sync"] and len(waits) == 1
        assert any(t.name.startswith("stafett-sqlite-writer") for t in threading.enumerate())
    finally:
        await db.dispose()
    assert not any(t.name.startswith("stafett-sqlite-writer") for t in threading.enumerate())
