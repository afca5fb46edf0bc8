"""Engines never put statement parameters (payloads with names and nins) into errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from adapter.store.database import make_engine

CHILD_NIN = "14831651238"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL of each backend (PostgreSQL only where the test URL is set)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'hidden.db'}"
    pg = os.environ.get("STAFETT_TEST_POSTGRES_URL")
    if not pg:
        pytest.skip("STAFETT_TEST_POSTGRES_URL is not set: PostgreSQL tests skipped")
    return pg


async def test_a_failing_statement_does_not_show_its_parameters(url: str) -> None:
    """The error of a failing statement names the statement but hides its parameters."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError) as info:
                await conn.execute(
                    text("SELECT payload FROM no_such_table WHERE payload = :p"),
                    {"p": f"Emma Haugen {CHILD_NIN}"},
                )
    finally:
        await engine.dispose()
    shown = str(info.value)
    assert "no_such_table" in shown
    assert CHILD_NIN not in shown and "Emma" not in shown
    assert "parameters hidden" in shown
