"""Target clients: thin typed clients over one shared `httpx.AsyncClient` per remote.

- `http`: client construction, outcome classification, `Retry-After`.
- `auth`: the per-tenant Visma Connect token cache.
- `sif_auth`: where a SIF installation takes the tenant's archive key (three variants).
- `internal_auth`: the internal system's bearer auth (the feed key; feed and documents).
- `samspill`: Flyt Samspill (the only module with its paths and field names).
- `result`: what a client returns and the protocol the dispatcher calls.
"""

from adapter.targets.auth import SamspillCredentials, TokenCache
from adapter.targets.result import Result, TargetClient
from adapter.targets.samspill import SamspillClient

__all__ = ["Result", "SamspillClient", "SamspillCredentials", "TargetClient", "TokenCache"]
