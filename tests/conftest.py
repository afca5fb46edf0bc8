"""Suite-wide fixtures: a clean STAFETT_* environment and unconfigured logging for every
test; the log guard (tests/support/log_guard.py) scans what each test writes."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from adapter.dispatch.retry import set_testing
from adapter.logs import reset_logging

pytest_plugins = ["tests.conftest_mock", "tests.support.log_guard", "pytester"]

KEEP = {"STAFETT_TEST_POSTGRES_URL"}


@pytest.fixture(autouse=True)
def _clean_stafett_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests never see a developer's STAFETT_* settings (CI's PostgreSQL URL excepted)."""
    for key in list(os.environ):
        if key.startswith("STAFETT_") and key not in KEEP:
            monkeypatch.delenv(key, raising=False)
    yield


@pytest.fixture(autouse=True)
def _no_retry_waits() -> Iterator[None]:
    """In-call retries never sleep in tests (persisted backoff still uses the clock)."""
    set_testing(True)
    yield
    set_testing(False)


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Logging configured by a test (or a CLI command it runs in-process) ends with it."""
    yield
    reset_logging()
