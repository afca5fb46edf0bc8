"""The SIF auth variants: where each one puts the tenant's key (contracts/p360-sif.md)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from adapter.errors import PermanentError
from adapter.settings import ArchiveAuth, ArchiveConfig
from adapter.targets.sif_auth import sif_auth

KEY = "sif-k3y-value"


def config(
    auth: ArchiveAuth, *, client_id: str | None = None, key: str | None = KEY
) -> ArchiveConfig:
    return ArchiveConfig(
        base_url="https://p360.example.test",
        auth=auth,
        key=None if key is None else SecretStr(key),
        client_id=client_id,
    )


@pytest.mark.parametrize(
    ("auth", "client_id", "expected"),
    [
        (ArchiveAuth.QUERY, "cid", ({"authkey": KEY}, {})),
        (ArchiveAuth.AUTHORIZATION, None, ({}, {"Authorization": f"authkey {KEY}"})),
        (
            ArchiveAuth.AUTHORIZATION,
            "cid",
            ({}, {"Authorization": f"authkey {KEY}", "clientid": "cid"}),
        ),
        (ArchiveAuth.HEADER, "cid", ({}, {"AuthKey": KEY})),
    ],
)
def test_each_variant_puts_the_key_where_the_installation_reads_it(
    auth: ArchiveAuth, client_id: str | None, expected: tuple[dict[str, str], dict[str, str]]
) -> None:
    """Query `authkey`, `Authorization: authkey` (+ `clientid` when set) or `AuthKey`."""
    assert sif_auth(config(auth, client_id=client_id), tenant="modum") == expected


def test_no_key_is_a_permanent_error_naming_the_tenant() -> None:
    """Without `archive.key` no call can succeed: permanent, naming the tenant."""
    with pytest.raises(PermanentError, match=r"tenant 'modum' has no archive\.key"):
        sif_auth(config(ArchiveAuth.HEADER, key=None), tenant="modum")
