"""How a SIF (Public 360) installation takes the tenant's key: the three auth variants.

`archive.auth` says which (contracts/p360-sif.md): `query` sends `?authkey=KEY` (the URL
then carries the key and is never logged), `authorization` sends `Authorization: authkey
KEY` with an optional `clientid` header, `header` sends `AuthKey: KEY`. The archive client
and `config check --probe` (through the archive client) both use this one function.
"""

from __future__ import annotations

from adapter.errors import PermanentError
from adapter.settings.tenant import ArchiveAuth, ArchiveConfig

__all__ = ["sif_auth"]


def sif_auth(config: ArchiveConfig, *, tenant: str) -> tuple[dict[str, str], dict[str, str]]:
    """(query parameters, headers) carrying the key as the tenant's `archive.auth` says.

    PermanentError (naming the tenant, never a key) when the tenant has no `archive.key`.
    """
    key = config.key
    if key is None:
        raise PermanentError(f"tenant {tenant!r} has no archive.key")
    secret = key.get_secret_value()
    if config.auth is ArchiveAuth.QUERY:
        return {"authkey": secret}, {}
    if config.auth is ArchiveAuth.AUTHORIZATION:
        headers = {"Authorization": f"authkey {secret}"}
        if config.client_id:
            headers["clientid"] = config.client_id
        return {}, headers
    return {}, {"AuthKey": secret}
