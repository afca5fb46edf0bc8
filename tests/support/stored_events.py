"""Put planner-test event streams into a real store through the inbox, as a door would."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from adapter.events import Event
from adapter.intake.inbox import Inbox
from adapter.intake.receive import ReceiptOutcome, receive_object
from adapter.settings import Settings, TenantConfig, load_settings
from adapter.store import Store
from adapter.store.states import EventSource

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "demo.toml"


def demo_settings(database_url: str, **env: str) -> Settings:
    """`config/demo.toml` on `database_url`, with extra `STAFETT_*` overrides from `env`."""
    environ = {"STAFETT_DATABASE_URL": database_url, **env}
    return load_settings(DEMO_CONFIG, environ=environ)


async def store_raw(
    store: Store, settings: Settings, raws: Iterable[Mapping[str, Any]]
) -> list[str]:
    """Store raw events through the inbox; returns their event ids. Each must be accepted."""

    def lookup(key: str) -> TenantConfig | None:
        return settings.tenants.get(key)

    inbox = Inbox(store.events)
    ids: list[str] = []
    for raw in raws:
        receipt = await receive_object(
            dict(raw), inbox=inbox, rules=lookup, source=EventSource.FILE, source_ref="test"
        )
        assert receipt.outcome is ReceiptOutcome.ACCEPTED, receipt.message
        assert receipt.event_id is not None
        ids.append(receipt.event_id)
    return ids


async def store_events(store: Store, settings: Settings, events: Iterable[Event]) -> list[str]:
    """Store validated planner-test events (dumped back to their raw JSON)."""
    return await store_raw(store, settings, (e.model_dump(mode="json") for e in events))
