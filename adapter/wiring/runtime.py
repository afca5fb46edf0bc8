"""Everything a running stafett holds: settings, store, metrics, HTTP and target clients.

Built once per process (service, `run --once`, demo) and closed at the end. Target clients
take the shared `httpx.AsyncClient`; tests and the demo inject a transport (the mock
in-process) instead of patching anything.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from adapter.dispatch.worker import Dispatcher
from adapter.events import RulesLookup
from adapter.logs import register_secret
from adapter.metrics import Metrics
from adapter.planning import PlanningRules
from adapter.settings import Settings, TenantConfig
from adapter.store.database import utc_now
from adapter.store.engine import open_store
from adapter.store.states import Target
from adapter.store.store import Store
from adapter.targets.http import build_client
from adapter.targets.result import TargetClient
from adapter.wiring.clients import build_clients
from adapter.wiring.rules import planning_rules
from adapter.wiring.summary_source import summary_provider

__all__ = ["Runtime", "default_owner"]


def default_owner() -> str:
    """A lease owner name unique to this process: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Runtime:
    """The wiring of one stafett process."""

    settings: Settings
    store: Store
    http: httpx.AsyncClient
    clock: Callable[[], datetime]
    owner: str
    metrics: Metrics = field(default_factory=Metrics)
    clients: dict[tuple[str, Target], TargetClient] = field(default_factory=dict)
    rules: dict[str, PlanningRules] = field(default_factory=dict)

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] = utc_now,
        owner: str | None = None,
        store: Store | None = None,
    ) -> Runtime:
        """Open the store (unless given) and build one client per tenant and target."""
        for tenant in settings.tenants.values():
            for secret in (
                tenant.samspill.client_secret,
                tenant.archive.key,
                tenant.feed.api_key,
                tenant.push_token,
            ):
                if secret is not None:
                    register_secret(secret.get_secret_value())
        opened = store or await open_store(settings.database_url)
        http = build_client(
            timeout_s=settings.http.timeout_s,
            ca_bundle=settings.http.ca_bundle,
            transport=transport,
        )
        runtime = cls(
            settings=settings,
            store=opened,
            http=http,
            clock=clock,
            owner=owner or default_owner(),
        )
        runtime.rules = {key: planning_rules(t) for key, t in settings.tenants.items()}
        runtime.clients = build_clients(settings, http, summaries=summary_provider(), clock=clock)
        return runtime

    @property
    def lookup(self) -> RulesLookup:
        """Tenant key → validation rules (None for an unknown tenant)."""

        def find(key: str) -> TenantConfig | None:
            return self.settings.tenants.get(key)

        return find

    def client(self, tenant: str, target: Target) -> TargetClient | None:
        """The client of a tenant's remote, or None when that tenant has none."""
        return self.clients.get((tenant, target))

    def dispatcher(self) -> Dispatcher:
        """A dispatcher over this runtime's store and clients."""
        return Dispatcher(
            self.store,
            self.client,
            owner=self.owner,
            settings=self.settings.dispatch,
            clock=self.clock,
            metrics=self.metrics,
        )

    async def close(self) -> None:
        """Close HTTP connections and the store."""
        await self.http.aclose()
        await self.store.close()
