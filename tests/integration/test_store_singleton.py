"""Periodic singletons: one replica at a time runs reconcile or deadlines."""

from __future__ import annotations

from adapter.store import Store, open_store
from tests.integration.conftest import PgSchemas


async def test_sqlite_runs_every_singleton(store: Store) -> None:
    """Each backend lets the first taker run the job."""
    async with store.singleton("reconcile") as mine:
        assert mine is True


async def test_postgres_lets_only_one_replica_hold_a_singleton(
    pg_store_schema: str, pg_schemas: PgSchemas
) -> None:
    """While one replica holds the lock, another is told no; after release it may run."""
    args = PgSchemas.connect_args(pg_store_schema)
    a = await open_store(pg_schemas.url, connect_args=args)
    b = await open_store(pg_schemas.url, connect_args=args)
    try:
        async with a.singleton("deadlines") as first:
            assert first is True
            async with b.singleton("deadlines") as second:
                assert second is False
            async with b.singleton("reconcile") as other_job:
                assert other_job is True
        async with b.singleton("deadlines") as after:
            assert after is True
    finally:
        await a.close()
        await b.close()
