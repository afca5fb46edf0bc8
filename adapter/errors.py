"""The one exception tree of stafett, split by what the caller must do.

```
StafettError
├── ConfigError            configuration or secrets are wrong: fix config, restart
├── RejectedInput          an input event (or line) is invalid: store it as rejected
│   └── EventConflict      same event_id (or case sequence) with other content
├── StoreError             the store is unusable (e.g. migrations pending)
└── RemoteError            a remote call failed; carries operation and endpoint
    ├── TransientError     retry later (timeouts, resets, 429, 5xx, P360 "Error:")
    │   └── AmbiguousError the request may have taken effect: look up before re-create
    └── PermanentError     retrying will not help (4xx, P360 "Validation:"): park
```

Context attached to errors is operation references and endpoints, never personal data.
"""

from __future__ import annotations

__all__ = [
    "AmbiguousError",
    "ConfigError",
    "EventConflict",
    "PermanentError",
    "RejectedInput",
    "RemoteError",
    "StafettError",
    "StoreError",
    "TransientError",
]


class StafettError(Exception):
    """Base of every error stafett raises on purpose."""


class ConfigError(StafettError):
    """Configuration or secrets are invalid; names the file and key, never a secret value."""

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None):
        self.source = source
        self.key = key
        where = ": ".join(part for part in (source, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class RejectedInput(StafettError):
    """An input event is invalid. `field` names the offending field (dotted path)."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        event_id: str | None = None,
        line: int | None = None,
    ):
        self.message = message
        self.field = field
        self.event_id = event_id
        self.line = line
        super().__init__(message)


class EventConflict(RejectedInput):
    """The same event_id (or a case's sequence) arrived again with different content."""


class StoreError(StafettError):
    """The store cannot be used as it is (unreachable, or migrations pending)."""


class RemoteError(StafettError):
    """A remote call failed. `op_ref` and `endpoint` say which; `status` the HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        op_ref: str | None = None,
        endpoint: str | None = None,
        status: int | None = None,
    ):
        self.op_ref = op_ref
        self.endpoint = endpoint
        self.status = status
        super().__init__(message)


class TransientError(RemoteError):
    """Retrying later may succeed. `retry_after` (seconds) when the remote said so."""

    def __init__(
        self,
        message: str,
        *,
        op_ref: str | None = None,
        endpoint: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ):
        self.retry_after = retry_after
        super().__init__(message, op_ref=op_ref, endpoint=endpoint, status=status)


class AmbiguousError(TransientError):
    """The request may have taken effect (sent, then timeout/reset/5xx): look up first."""


class PermanentError(RemoteError):
    """Retrying the same request will not help; the operation is parked."""
