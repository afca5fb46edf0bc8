"""One target client per tenant and remote, over the process's shared HTTP client."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from adapter.settings import Settings, TenantConfig
from adapter.settings.tenant import ArchiveBackend
from adapter.store.database import Clock, utc_now
from adapter.store.states import Target
from adapter.targets.auth import SamspillCredentials, TokenCache
from adapter.targets.documents import DocumentPolicy
from adapter.targets.p360 import P360Client, SummaryProvider
from adapter.targets.result import TargetClient
from adapter.targets.samspill import SamspillClient

__all__ = ["build_clients"]


def _samspill(
    tenant: TenantConfig, http: httpx.AsyncClient, settings: Settings, clock: Clock
) -> SamspillClient:
    config = tenant.samspill
    # no secret: the token call fails as a config problem and parks this tenant's work only
    secret = config.client_secret if config.client_secret is not None else SecretStr("")
    credentials = SamspillCredentials(
        tenant=tenant.key,
        token_url=config.token_url,
        client_id=config.client_id,
        client_secret=secret,
        tenant_id=str(config.tenant_id),
        scope=config.scope,
    )
    return SamspillClient(
        http,
        # the process clock, so a fake clock in tests also drives renewal before expiry
        TokenCache(http, credentials, clock=lambda: clock().timestamp()),
        base_url=config.base_url,
        access_areas=[str(a) for a in config.access_areas],
        retry_after_cap_s=settings.dispatch.retry_after_cap_s,
        clock=clock,
    )


def build_clients(
    settings: Settings,
    http: httpx.AsyncClient,
    *,
    summaries: SummaryProvider,
    clock: Clock = utc_now,
) -> dict[tuple[str, Target], TargetClient]:
    """(tenant, target) → client, for every enabled remote of every tenant.

    `summaries` gives the archive client the closing summary of a case when it archives one;
    `clock` is the process clock (token renewal, HTTP-date `Retry-After`).
    """
    clients: dict[tuple[str, Target], TargetClient] = {}
    for key, tenant in settings.tenants.items():
        if tenant.samspill.enabled:
            clients[(key, Target.SAMSPILL)] = _samspill(tenant, http, settings, clock)
        if tenant.archive.backend is ArchiveBackend.P360:
            clients[(key, Target.P360)] = P360Client(
                http,
                tenant.archive,
                tenant=key,
                documents=DocumentPolicy.of(
                    tenant.feed.document_origins,
                    feed_url=tenant.feed.url,
                    feed_key=tenant.feed.api_key,
                    deadline_s=settings.http.call_deadline_s,
                ),
                closing_summary=summaries,
                retry_after_cap_s=settings.dispatch.retry_after_cap_s,
                clock=clock,
            )
    return clients
