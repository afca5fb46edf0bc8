"""Dispatch settings: a lease must outlast missed heartbeats, checked when settings load."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from adapter.settings import DispatchSettings


def test_the_default_lease_outlasts_several_heartbeats() -> None:
    """60 s leases renewed every 15 s: three beats may be missed before a takeover."""
    settings = DispatchSettings()
    assert settings.lease_seconds >= 3 * settings.heartbeat_seconds


def test_a_lease_shorter_than_three_heartbeats_is_refused() -> None:
    """lease 40 s with a 15 s heartbeat leaves too little room: refused, naming both keys."""
    with pytest.raises(ValidationError, match=r"lease_seconds .* heartbeat_seconds"):
        DispatchSettings(lease_seconds=40, heartbeat_seconds=15)
    assert DispatchSettings(lease_seconds=45, heartbeat_seconds=15).lease_seconds == 45
