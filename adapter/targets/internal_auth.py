"""How the municipality's internal system takes the tenant's feed api key.

The internal system serves the event feed (`adapter.intake.feed`) and the documents the
archive downloads (`adapter.targets.documents`); both send the tenant's `feed.api_key` as a
bearer token, built here once.
"""

from __future__ import annotations

from pydantic import SecretStr

__all__ = ["internal_auth_headers"]


def internal_auth_headers(api_key: SecretStr | None) -> dict[str, str]:
    """The headers that carry `api_key` to the internal system (none without a key)."""
    if api_key is None:
        return {}
    return {"Authorization": f"Bearer {api_key.get_secret_value()}"}
