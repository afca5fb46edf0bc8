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

__all__ = ["archive_client", "build_clients", "samspill_client"]


def samspill_client(
    tenant: TenantConfig,
    http: httpx.AsyncClient,
    *,
    retry_after_cap_s: float | None = None,
    clock: Clock = utc_now,
) -> SamspillClient:
    """The tenant's Samspill client with its token cache, as the service runs it (and as
    `config check --probe` calls it)."""
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
        retry_after_cap_s=retry_after_cap_s,
        clock=clock,
    )


def archive_client(
    tenant: TenantConfig,
    http: httpx.AsyncClient,
    *,
    summaries: SummaryProvider | None = None,
    retry_after_cap_s: float | None = None,
    document_deadline_s: float = 60.0,
    clock: Clock = utc_now,
) -> P360Client:
    """The tenant's Public 360 client, as the service runs it (and as `config check
    --probe` calls it)."""
    return P360Client(
        http,
        tenant.archive,
        tenant=tenant.key,
        documents=DocumentPolicy.of(
            tenant.feed.document_origins,
            feed_url=tenant.feed.url,
            feed_key=tenant.feed.api_key,
            deadline_s=document_deadline_s,
        ),
        closing_summary=summaries,
        retry_after_cap_s=retry_after_cap_s,
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
    cap = settings.dispatch.retry_after_cap_s
    for key, tenant in settings.tenants.items():
        if tenant.samspill.enabled:
            clients[(key, Target.SAMSPILL)] = samspill_client(
                tenant, http, retry_after_cap_s=cap, clock=clock
            )
        if tenant.archive.backend is ArchiveBackend.P360:
            clients[(key, Target.P360)] = archive_client(
                tenant,
                http,
                summaries=summaries,
                retry_after_cap_s=cap,
                document_deadline_s=settings.http.call_deadline_s,
                clock=clock,
            )
    return clients
