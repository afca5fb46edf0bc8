"""Fetch and verify a document's bytes before anything is archived (events.md, minutes).

A `document_ref` is fetched only from a host in the tenant's `feed.document_hosts` (exact
host match; anything else is refused without a request), with the feed's bearer key,
streamed under a size cap, never following a redirect (a 3xx is refused). Inline
`content_base64` is decoded and checked the same way.
Every document must be `application/pdf` (declared, and served as such), must parse as a
PDF, and must match its `sha256` when one is given.

Refusals are `PermanentError` (the operation parks with the reason); trouble reaching the
host is `TransientError`. Messages name the host and the rule, never the URL's path or
query, nor the content.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from adapter.errors import AmbiguousError, PermanentError, TransientError
from adapter.planning.payloads import DocumentSource
from adapter.targets.http import classify, transport_error
from adapter.targets.pdf import PDF_MEDIA_TYPE, is_pdf

__all__ = ["check_document", "fetch_document", "host_allowed", "media_type_of"]

_MAX_SHOWN = 60


def media_type_of(content_type: str | None) -> str:
    """The bare, lower-case media type of a `Content-Type` value (parameters dropped)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def host_allowed(url: str, allowed_hosts: Sequence[str]) -> bool:
    """True when `url` is http(s) without credentials and its host is exactly an allowed one."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return False
    if parts.username is not None or parts.password is not None:
        return False
    allowed = {h.strip().lower() for h in allowed_hosts if h.strip()}
    host = parts.hostname.lower()
    with_port = f"{host}:{parts.port}" if parts.port is not None else host
    return host in allowed or with_port in allowed


def _shown(value: str) -> str:
    return value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "…"


def check_document(data: bytes, source: DocumentSource, *, max_bytes: int) -> bytes:
    """`data` when it is within `max_bytes`, matches `source.sha256` and parses as a PDF."""
    if len(data) > max_bytes:
        raise PermanentError(f"document refused: over size ({len(data)} > {max_bytes} bytes)")
    if source.sha256 is not None:
        digest = hashlib.sha256(data).hexdigest()
        if not hmac.compare_digest(digest, source.sha256.strip().lower()):
            raise PermanentError("document refused: checksum mismatch (sha256 differs)")
    if not is_pdf(data):
        raise PermanentError("document refused: not a PDF (the bytes do not parse as one)")
    return data


def _declared_pdf(source: DocumentSource) -> None:
    declared = media_type_of(source.media_type)
    if declared != PDF_MEDIA_TYPE:
        raise PermanentError(
            f"document refused: wrong media type {_shown(declared)!r}, expected {PDF_MEDIA_TYPE}"
        )


def _inline(source: DocumentSource, max_bytes: int) -> bytes:
    text = "".join((source.content_base64 or "").split())
    if len(text) // 4 * 3 > max_bytes + 2:  # refuse before decoding a huge value
        raise PermanentError(f"document refused: over size (more than {max_bytes} bytes)")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise PermanentError("document refused: inline content is not valid base64") from None


async def fetch_document(
    source: DocumentSource,
    *,
    http: httpx.AsyncClient,
    allowed_hosts: Sequence[str],
    api_key: SecretStr | None,
    max_bytes: int,
) -> bytes:
    """The verified bytes of `source` (inline or fetched); see the module docstring."""
    _declared_pdf(source)
    if source.content_base64 is not None:
        return check_document(_inline(source, max_bytes), source, max_bytes=max_bytes)
    if source.document_ref is None:
        raise PermanentError("document refused: neither document_ref nor content_base64 given")
    data = await _download(source.document_ref, http, allowed_hosts, api_key, max_bytes)
    return check_document(data, source, max_bytes=max_bytes)


async def _download(
    url: str,
    http: httpx.AsyncClient,
    allowed_hosts: Sequence[str],
    api_key: SecretStr | None,
    max_bytes: int,
) -> bytes:
    host = urlsplit(url).hostname or "?"
    if not host_allowed(url, allowed_hosts):
        raise PermanentError(
            f"document refused: wrong host {_shown(host)!r} (not in the tenant's document_hosts)"
        )
    headers = {"Accept": PDF_MEDIA_TYPE}
    if api_key is not None:
        headers["Authorization"] = f"Bearer {api_key.get_secret_value()}"
    request = http.build_request("GET", url, headers=headers)
    endpoint = f"GET document from {host}"
    try:
        # never follow a redirect, even on a client that does: it could leave document_hosts
        response = await http.send(request, stream=True, follow_redirects=False)
        try:
            return await _read(response, host, max_bytes)
        finally:
            await response.aclose()
    except httpx.TransportError as exc:
        error = transport_error(exc, op_ref=None, endpoint=host, method="GET")
        if isinstance(error, AmbiguousError | TransientError):  # a GET: repeating is safe
            raise TransientError(f"{endpoint} failed: {type(exc).__name__}") from None
        raise error from None


async def _read(response: httpx.Response, host: str, max_bytes: int) -> bytes:
    if response.is_redirect or 300 <= response.status_code < 400:
        raise PermanentError(
            f"document refused: redirect ({response.status_code} from {host!r}); documents "
            "are fetched only from the tenant's document_hosts, without redirects"
        )
    if not 200 <= response.status_code < 300:
        await response.aread()
        error = classify(response, endpoint=f"document from {host}")
        if error is not None:
            raise error
    served = media_type_of(response.headers.get("Content-Type"))
    if served != PDF_MEDIA_TYPE:
        raise PermanentError(
            f"document refused: wrong media type {_shown(served)!r} served by {host!r}, "
            f"expected {PDF_MEDIA_TYPE}"
        )
    length = response.headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        raise PermanentError(f"document refused: over size ({length} > {max_bytes} bytes)")
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > max_bytes:
            raise PermanentError(f"document refused: over size (more than {max_bytes} bytes)")
        chunks.append(chunk)
    return b"".join(chunks)
