"""The mock's in-memory state: registered clients, tokens, the internal feed, the request log.

Plans live in `SamspillBook` (samspill_plans.py) and the archive in `P360Mock`; this module
holds what every part shares. One process, one event loop: handlers never await while they
change state, so no lock is needed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = [
    "ClientRegistrations",
    "Clock",
    "FeedKey",
    "InternalFeed",
    "MockState",
    "P360Key",
    "RequestLogEntry",
    "SamspillClient",
    "StoredDocument",
    "TokenGrant",
    "redact_base64",
]

Clock = Callable[[], float]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class SamspillClient(BaseModel):
    """An OAuth client of the token endpoint, linked to one tenant (municipality)."""

    model_config = _FROZEN

    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    tenant_id: str = Field(min_length=1)
    organization_number: str = Field(pattern=r"^\d{9}$")
    scopes: list[str] = ["vfsapi:samspill"]


class P360Key(BaseModel):
    """A SIF authkey, with the optional `clientid` that goes with it."""

    model_config = _FROZEN

    authkey: str = Field(min_length=1)
    clientid: str | None = None


class FeedKey(BaseModel):
    """An api key of the internal feed, bound to one tenant key (e.g. `modum`)."""

    model_config = _FROZEN

    api_key: str = Field(min_length=1)
    tenant: str = Field(min_length=1)


class ClientRegistrations(BaseModel):
    """The body of `POST /_mock/clients`, and the set registered at start-up."""

    model_config = _FROZEN

    samspill: list[SamspillClient] = []
    p360: list[P360Key] = []
    feed: list[FeedKey] = []


class TokenGrant(BaseModel):
    """What an opaque access token stands for."""

    model_config = ConfigDict(frozen=True)

    client_id: str
    tenant_id: str
    organization_number: str
    scopes: tuple[str, ...]
    expires_at: float


class RequestLogEntry(BaseModel):
    """One non-admin request as the client saw it; `status` is None when none was sent."""

    model_config = ConfigDict(frozen=True)

    method: str
    path: str
    status: int | None
    body: Any = None


@dataclass(frozen=True)
class StoredDocument:
    """A document the feed can reference."""

    media_type: str
    content: bytes
    sha256: str


@dataclass
class InternalFeed:
    """The BTI case system's feed: events per tenant, in order, and documents by id."""

    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    documents: dict[str, StoredDocument] = field(default_factory=dict)

    def append(self, event: dict[str, Any]) -> None:
        """Append one event to its tenant's stream."""
        self.events.setdefault(str(event["tenant"]), []).append(event)

    def event_count(self) -> int:
        """Events across all tenants."""
        return sum(len(stream) for stream in self.events.values())


class MockState:
    """Registrations, tokens, the internal feed and the request log of one mock app."""

    def __init__(self, clock: Clock, startup: ClientRegistrations) -> None:
        self.clock = clock
        self.startup = startup
        self.samspill_clients: dict[str, SamspillClient] = {}
        self.p360_keys: dict[str, P360Key] = {}
        self.feed_keys: dict[str, FeedKey] = {}
        self.tokens: dict[str, TokenGrant] = {}
        self.feed = InternalFeed()
        self.requests: list[RequestLogEntry] = []
        self.register(startup)

    def register(self, regs: ClientRegistrations) -> None:
        """Add clients and keys (a later registration of the same id replaces the earlier)."""
        for client in regs.samspill:
            self.samspill_clients[client.client_id] = client
        for key in regs.p360:
            self.p360_keys[key.authkey] = key
        for feed_key in regs.feed:
            self.feed_keys[feed_key.api_key] = feed_key

    def reset(self) -> None:
        """Empty everything; only the start-up clients (and their live tokens) remain."""
        self.samspill_clients.clear()
        self.p360_keys.clear()
        self.feed_keys.clear()
        self.register(self.startup)
        kept = set(self.samspill_clients)
        self.tokens = {t: g for t, g in self.tokens.items() if g.client_id in kept}
        self.feed = InternalFeed()
        self.requests.clear()

    def grant_for(self, token: str) -> TokenGrant | None:
        """The live grant of `token`, or None when unknown or expired."""
        grant = self.tokens.get(token)
        if grant is None or grant.expires_at <= self.clock():
            return None
        return grant

    def log_request(self, entry: RequestLogEntry) -> None:
        """Append to the request log."""
        self.requests.append(entry)


def _sha256_of_base64(value: str) -> str:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = value.encode()
    return hashlib.sha256(raw).hexdigest()


def redact_base64(value: Any) -> Any:
    """`value` with every `Base64Data` string replaced by the sha256 of its decoded bytes."""
    if isinstance(value, dict):
        return {
            k: _sha256_of_base64(v)
            if k == "Base64Data" and isinstance(v, str)
            else redact_base64(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_base64(v) for v in value]
    return value
