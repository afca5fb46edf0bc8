"""The clients, keys and api keys the mock registers at start-up (those of config/demo.toml)."""

from __future__ import annotations

from pydantic import SecretStr

from adapter.mock.state import ClientRegistrations, FeedKey, P360Key, SamspillClient

__all__ = ["DEMO_CLIENTS", "SAMSPILL_SCOPE"]

SAMSPILL_SCOPE = "vfsapi:samspill"

DEMO_CLIENTS = ClientRegistrations(
    samspill=[
        SamspillClient(
            client_id="stafett-modum",
            client_secret=SecretStr("modum-demo-secret"),
            tenant_id="6f1c2a4e-8d3b-4c1a-9e2f-0a1b2c3d4e01",
            organization_number="864965962",
            scopes=[SAMSPILL_SCOPE],
        ),
        SamspillClient(
            client_id="stafett-vardo",
            client_secret=SecretStr("vardo-demo-secret"),
            tenant_id="6f1c2a4e-8d3b-4c1a-9e2f-0a1b2c3d4e02",
            organization_number="944588132",
            scopes=[SAMSPILL_SCOPE],
        ),
    ],
    p360=[
        P360Key(authkey="modum-p360-demo-key", clientid="stafett"),
        P360Key(authkey="vardo-p360-demo-key", clientid=None),
    ],
    feed=[
        FeedKey(api_key="modum-feed-demo-key", tenant="modum"),
        FeedKey(api_key="vardo-feed-demo-key", tenant="vardo"),
    ],
)
