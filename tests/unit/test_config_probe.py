"""`config check --probe` goes through the production path of each remote.

Each probe is the target's own `probe` (the Samspill client with its token cache, the
archive client with its SIF auth variant, the feed door's page read), so a wrong secret,
key or feed key fails the probe exactly as it fails the service. Run against the
in-process mock with `config/demo.toml`'s tenants.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from adapter.cli.config_cmd import ProbeResult, ProbeStatus, Remote, probe_tenant
from adapter.errors import PermanentError, TransientError
from adapter.intake.feed import probe_feed
from adapter.mock.app import create_app
from adapter.settings import TenantConfig, load_settings
from adapter.wiring.clients import archive_client, samspill_client
from tests.unit.test_settings_loading import REPO

MOCK = "http://mock"


def demo_tenant(key: str = "modum") -> TenantConfig:
    settings = load_settings(REPO / "config" / "demo.toml", environ={"STAFETT_MOCK_URL": MOCK})
    return settings.tenants[key]


def with_samspill_secret(tenant: TenantConfig, secret: str) -> TenantConfig:
    samspill = tenant.samspill.model_copy(update={"client_secret": SecretStr(secret)})
    return tenant.model_copy(update={"samspill": samspill})


def with_archive(tenant: TenantConfig, **changes: object) -> TenantConfig:
    return tenant.model_copy(update={"archive": tenant.archive.model_copy(update=changes)})


def with_feed_key(tenant: TenantConfig, key: str) -> TenantConfig:
    feed = tenant.feed.model_copy(update={"api_key": SecretStr(key)})
    return tenant.model_copy(update={"feed": feed})


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url=MOCK) as client:
        yield client


def outcome(results: list[ProbeResult], remote: Remote) -> tuple[ProbeStatus, str]:
    (found,) = [r for r in results if r.remote is remote]
    return found.status, found.detail


async def test_a_wrong_samspill_secret_fails_the_probe_as_it_fails_the_service(
    http: httpx.AsyncClient,
) -> None:
    """The token refusal of a wrong client secret: the probe reports HTTP 401, and the
    probe and a production read raise the same error through the same token cache."""
    tenant = with_samspill_secret(demo_tenant(), "not-the-secret")
    results = await probe_tenant(http, tenant)
    assert outcome(results, Remote.VISMA_CONNECT) == (ProbeStatus.FAILED, "HTTP 401")
    with pytest.raises(PermanentError) as probed:
        await samspill_client(tenant, http).probe()
    with pytest.raises(PermanentError) as served:
        await samspill_client(tenant, http).find_plans("stafett:modum:X:plan:1", op_ref="r")
    assert str(probed.value) == str(served.value)
    assert "token request refused (401 invalid_client)" in str(probed.value)
    assert "not-the-secret" not in str(probed.value)


async def test_the_samspill_probe_reads_with_a_token_of_the_cache(
    http: httpx.AsyncClient,
) -> None:
    """A good secret: a token from Visma Connect, then one authenticated read (200)."""
    assert await samspill_client(demo_tenant(), http).probe() == 200


async def test_a_wrong_archive_key_fails_the_probe_as_it_fails_the_service(
    http: httpx.AsyncClient,
) -> None:
    """SIF refuses a wrong key with 401: permanent in production, failed in the probe."""
    tenant = with_archive(demo_tenant(), key=SecretStr("not-the-key"))
    results = await probe_tenant(http, tenant)
    assert outcome(results, Remote.ARCHIVE) == (ProbeStatus.FAILED, "HTTP 401")
    with pytest.raises(PermanentError, match="refused tenant 'modum''s key"):
        await archive_client(tenant, http).probe()


async def test_the_archive_probe_sends_the_tenants_auth_variant(
    http: httpx.AsyncClient,
) -> None:
    """Modum's key is registered with a client id: the `authorization` variant sends it
    and passes; the same key without the client id is refused, as it would be in service."""
    tenant = demo_tenant()
    assert outcome(await probe_tenant(http, tenant), Remote.ARCHIVE) == (
        ProbeStatus.OK,
        "HTTP 200",
    )
    without_client_id = with_archive(tenant, client_id=None)
    assert outcome(await probe_tenant(http, without_client_id), Remote.ARCHIVE) == (
        ProbeStatus.FAILED,
        "HTTP 401",
    )
    vardo = demo_tenant("vardo")  # the `query` variant
    assert outcome(await probe_tenant(http, vardo), Remote.ARCHIVE) == (ProbeStatus.OK, "HTTP 200")


async def test_a_wrong_feed_key_fails_the_probe_as_it_fails_the_feed_door(
    http: httpx.AsyncClient,
) -> None:
    """The feed refuses a wrong key: the probe fails with the feed door's own error."""
    tenant = with_feed_key(demo_tenant(), "not-the-feed-key")
    results = await probe_tenant(http, tenant)
    assert outcome(results, Remote.FEED) == (ProbeStatus.FAILED, "HTTP 401")
    with pytest.raises(TransientError, match="feed of modum answered HTTP 401"):
        await probe_feed(tenant, http=http)


async def test_a_feed_answer_that_is_no_page_fails_the_probe() -> None:
    """The probe applies the feed door's check of the answer, not only its status."""
    requests: list[httpx.Request] = []

    def not_a_page(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=["not", "a", "page"])

    async with httpx.AsyncClient(transport=httpx.MockTransport(not_a_page)) as client:
        (result,) = [
            r for r in await probe_tenant(client, demo_tenant()) if r.remote is Remote.FEED
        ]
    assert result.status is ProbeStatus.FAILED
    assert "not a page of events" in result.detail
    feed_request = requests[-1]
    assert feed_request.url.params["limit"] == "1"
    assert feed_request.headers["authorization"] == "Bearer modum-feed-demo-key"
