"""The mock server: Visma Connect, Flyt Samspill, Public 360 SIF and the BTI case system.

`create_app()` builds one stateful in-memory app; `MockServer` serves it with uvicorn.
"""

from __future__ import annotations

from adapter.mock.app import MockHandles, MockServer, create_app
from adapter.mock.demo_credentials import DEMO_CLIENTS

__all__ = ["DEMO_CLIENTS", "MockHandles", "MockServer", "create_app"]
