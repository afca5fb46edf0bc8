"""Outbound HTTP shared by every target: client construction and outcome classification.

What a failed call means for the caller (the dispatcher acts on the error class):

| outcome                                                 | error          |
|---------------------------------------------------------|----------------|
| 2xx                                                     | none           |
| 429 (with `Retry-After`, capped), 408                   | TransientError |
| 5xx on GET / PUT / PATCH / DELETE                       | TransientError |
| 5xx on POST (may have taken effect)                     | AmbiguousError |
| other 4xx (callers read 401 and 409 first)              | PermanentError |
| ConnectError, ConnectTimeout, PoolTimeout, ProxyError   | TransientError |
| ReadTimeout, WriteTimeout, RemoteProtocolError, ReadError, … | AmbiguousError |
| UnsupportedProtocol, LocalProtocolError (our mistake)   | PermanentError |

Messages carry the operation reference, method, path and status, never a query string or
a body (bodies may hold personal data). Only an RFC 9457 problem's `type` slug and the
names of the offending fields are quoted.
"""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx

from adapter.errors import AmbiguousError, PermanentError, RemoteError, TransientError

__all__ = [
    "IDEMPOTENT_METHODS",
    "PROBE_REF",
    "build_client",
    "classify",
    "endpoint_of",
    "parse_retry_after",
    "problem_type",
    "raise_for_outcome",
    "transport_error",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
"""Methods whose 5xx is safe to repeat (PATCH here sets fields to given values)."""

PROBE_REF = "config-check-probe"
"""What a probe's errors name in place of an operation reference (`config check --probe`)."""

_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
_OUR_FAULT = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


def build_client(
    *,
    base_url: str | None = None,
    timeout_s: float,
    ca_bundle: Path | None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The shared async client: a plain `httpx.AsyncClient` built from public arguments only.

    Proxies come from the standard environment variables (httpx's own `trust_env`), TLS
    verification is always on, connection limits are httpx's defaults (`httpx.Limits`).
    `ca_bundle` replaces the system trust store (e.g. a municipality's TLS-inspecting
    proxy). An injected `transport` (tests, the in-process mock) takes the place of the
    network, so neither proxies nor TLS apply.
    """
    # One TLS context for the whole client (the direct transport and every proxy mount
    # alike): loading the trust store is the costly part of building a transport.
    if ca_bundle is not None:
        context = ssl.create_default_context(cafile=str(ca_bundle))
    else:
        context = httpx.create_ssl_context(verify=True, trust_env=True)
    return httpx.AsyncClient(
        base_url=base_url or "",
        timeout=httpx.Timeout(timeout_s),
        limits=httpx.Limits(),
        verify=context,
        trust_env=True,
        transport=transport,
        follow_redirects=False,
    )


def parse_retry_after(value: str, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` value: delay-seconds or an HTTP date.

    A date in the past gives 0; anything unreadable gives None (the caller falls back to
    its own backoff). `now` must be timezone-aware.
    """
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def endpoint_of(request: httpx.Request) -> str:
    """The path of a request, without query string (which may hold keys) or host."""
    return request.url.path


def problem_type(response: httpx.Response) -> str | None:
    """The `type` of an RFC 9457 problem body as a short slug (last path segment), if any."""
    body = _json_object(response)
    kind = body.get("type") if body is not None else None
    if not isinstance(kind, str) or not kind:
        return None
    return kind.rstrip("/").rsplit("/", 1)[-1]


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _fields(response: httpx.Response) -> list[str]:
    body = _json_object(response)
    errors = body.get("errors") if body is not None else None
    if not isinstance(errors, list):
        return []
    return [e["field"] for e in errors if isinstance(e, dict) and isinstance(e.get("field"), str)]


def _describe(response: httpx.Response, *, op_ref: str | None, endpoint: str) -> str:
    parts = [f"{response.request.method} {endpoint} answered {response.status_code}"]
    kind = problem_type(response)
    if kind is not None:
        parts.append(f"({kind})")
    fields = _fields(response)
    if fields:
        parts.append("fields: " + ", ".join(fields[:10]))
    if op_ref is not None:
        parts.append(f"[{op_ref}]")
    return " ".join(parts)


def classify(
    response: httpx.Response,
    *,
    op_ref: str | None = None,
    endpoint: str | None = None,
    retry_after_cap_s: float | None = None,
    now: datetime | None = None,
) -> RemoteError | None:
    """The error a response means (see the module table), or None for a 2xx."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    where = endpoint if endpoint is not None else endpoint_of(response.request)
    message = _describe(response, op_ref=op_ref, endpoint=where)
    context: dict[str, Any] = {"op_ref": op_ref, "endpoint": where, "status": status}
    if status == 429:
        header = response.headers.get("Retry-After")
        wait = parse_retry_after(header, now or datetime.now(UTC)) if header is not None else None
        if wait is not None and retry_after_cap_s is not None:
            wait = min(wait, retry_after_cap_s)
        return TransientError(message, retry_after=wait, **context)
    if status == 408:
        return TransientError(message, **context)
    if status >= 500:
        if response.request.method.upper() in IDEMPOTENT_METHODS:
            return TransientError(message, **context)
        return AmbiguousError(message, **context)
    return PermanentError(message, **context)


def raise_for_outcome(
    response: httpx.Response,
    *,
    op_ref: str | None = None,
    endpoint: str | None = None,
    retry_after_cap_s: float | None = None,
    now: datetime | None = None,
) -> httpx.Response:
    """Return a 2xx response; raise the error `classify` gives for anything else."""
    error = classify(
        response, op_ref=op_ref, endpoint=endpoint, retry_after_cap_s=retry_after_cap_s, now=now
    )
    if error is not None:
        raise error
    return response


def transport_error(
    exc: httpx.TransportError, *, op_ref: str | None, endpoint: str, method: str
) -> RemoteError:
    """The error a transport failure means: never sent → transient, maybe sent → ambiguous."""
    message = f"{method} {endpoint} failed: {type(exc).__name__}"
    if op_ref is not None:
        message += f" [{op_ref}]"
    if isinstance(exc, _NEVER_SENT):
        return TransientError(message, op_ref=op_ref, endpoint=endpoint)
    if isinstance(exc, _OUR_FAULT):
        return PermanentError(message, op_ref=op_ref, endpoint=endpoint)
    return AmbiguousError(message, op_ref=op_ref, endpoint=endpoint)
