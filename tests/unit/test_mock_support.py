"""Shared helpers of the mock tests: demo tenants, fake clock and sleep, token helpers.

Holds no tests. The fixtures live in the plugin `tests.conftest_mock`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httpx

__all__ = [
    "MODUM",
    "VARDO",
    "FakeClock",
    "FakeSleep",
    "MockTenant",
    "bearer",
    "samspill_token",
]


@dataclass(frozen=True)
class MockTenant:
    """The demo credentials of one tenant, as the mock registers them at start-up."""

    key: str
    client_id: str
    client_secret: str
    tenant_id: str
    organization_number: str
    feed_key: str
    p360_key: str


MODUM = MockTenant(
    "modum",
    "stafett-modum",
    "modum-demo-secret",
    "6f1c2a4e-8d3b-4c1a-9e2f-0a1b2c3d4e01",
    "864965962",
    "modum-feed-demo-key",
    "modum-p360-demo-key",
)
VARDO = MockTenant(
    "vardo",
    "stafett-vardo",
    "vardo-demo-secret",
    "6f1c2a4e-8d3b-4c1a-9e2f-0a1b2c3d4e02",
    "944588132",
    "vardo-feed-demo-key",
    "vardo-p360-demo-key",
)


@dataclass
class FakeClock:
    """A clock that moves only when told."""

    now: float = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


@dataclass
class FakeSleep:
    """Records what the mock would have slept, and returns at once."""

    slept: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        await asyncio.sleep(0)


async def samspill_token(client: httpx.AsyncClient, tenant: MockTenant = MODUM) -> str:
    """A fresh access token for `tenant`'s demo client."""
    response = await client.post(
        "/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": tenant.client_id,
            "client_secret": tenant.client_secret,
            "tenant_id": tenant.tenant_id,
            "scope": "vfsapi:samspill",
        },
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for `token`."""
    return {"Authorization": f"Bearer {token}"}
