"""Target clients: thin typed clients over one shared `httpx.AsyncClient` per remote.

- `http`: client construction, outcome classification, `Retry-After`.
- `auth`: the per-tenant Visma Connect token cache.
- `samspill`: Flyt Samspill (the only module with its paths and field names).
- `result`: what a client returns and the protocol the dispatcher calls.
"""

from adapter.targets.auth import SamspillCredentials, TokenCache
from adapter.targets.result import Result, TargetClient
from adapter.targets.samspill import SamspillClient

__all__ = ["Result", "SamspillClient", "SamspillCredentials", "TargetClient", "TokenCache"]
