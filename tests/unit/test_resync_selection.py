"""Which cases `resync --since` picks: by the event's date in Europe/Oslo."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from adapter.resync import case_keys
from adapter.store.records import CaseKey

KEY = CaseKey(tenant="modum", case_id="BTI-1")


class _Events:
    """The two store reads `case_keys` makes, over one case with the given event times."""

    def __init__(self, *occurred: datetime) -> None:
        self.rows = [SimpleNamespace(occurred_at=at) for at in occurred]

    async def cases_with_events(self, states: Any, tenant: str | None = None) -> list[CaseKey]:
        return [KEY]

    async def events_for_case(self, tenant: str, case_id: str) -> list[Any]:
        return self.rows


def _store(events: _Events) -> Any:
    """A store whose `events` repository is the fake."""
    return SimpleNamespace(events=events)


async def test_since_compares_the_oslo_date_of_the_event() -> None:
    """23:30 UTC on 1 March is 2 March in Oslo: picked for --since 2026-03-02."""
    late = _Events(datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    assert await case_keys(_store(late), since=date(2026, 3, 2)) == [KEY]
    early = _Events(datetime(2026, 3, 1, 22, 30, tzinfo=UTC))  # 23:30 in Oslo: still 1 March
    assert await case_keys(_store(early), since=date(2026, 3, 2)) == []
