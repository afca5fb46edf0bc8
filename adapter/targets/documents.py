"""Fetch and verify a document's bytes before anything is archived (events.md, minutes).

A `document_ref` is fetched only from an origin (scheme, host and port) in the tenant's
`feed.document_origins` (anything else is refused without a request), streamed under a size
cap within a total deadline, never following a redirect (a 3xx is refused). The feed's
bearer key goes only to the feed's own origin. A refused connection to an allowed origin
parks too: nothing listens there, so repeating the fetch cannot help. Inline
`content_base64` is decoded and checked the same way.
Every document must be `application/pdf` (declared, and served as such), must parse as a
PDF, and must match its `sha256` when one is given.

Refusals are `PermanentError` (the operation parks with the reason); trouble reaching the
host is `TransientError`. Messages name the host and the rule, never the URL's path or
query, nor the content.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from adapter.errors import AmbiguousError, PermanentError, TransientError
from adapter.planning.payloads import DocumentSource
from adapter.targets.http import classify, transport_error
from adapter.targets.internal_auth import internal_auth_headers
from adapter.targets.pdf import PDF_MEDIA_TYPE, is_pdf

__all__ = [
    "DocumentPolicy",
    "check_document",
    "fetch_document",
    "media_type_of",
    "origin_of",
]

_MAX_SHOWN = 60
_DEFAULT_PORTS = {"http": 80, "https": 443}


def media_type_of(content_type: str | None) -> str:
    """The bare, lower-case media type of a `Content-Type` value (parameters dropped)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def origin_of(url: str) -> str | None:
    """``scheme://host:port`` of an http(s) URL without credentials (the port always
    written out); None for anything else."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a port that is not a number
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    return f"{parts.scheme}://{parts.hostname.lower()}:{port or _DEFAULT_PORTS[parts.scheme]}"


@dataclass(frozen=True)
class DocumentPolicy:
    """Where a tenant's documents may come from, and with which key.

    - `origins`: the allowed origins, as `origin_of` writes them;
    - `feed_origin`: the feed's own origin, the only one the feed key is sent to;
    - `deadline_s`: the whole fetch (connect, every read) must end within it.
    """

    origins: frozenset[str] = frozenset()
    feed_origin: str | None = None
    feed_key: SecretStr | None = None
    deadline_s: float = 60.0

    @classmethod
    def of(
        cls,
        origins: Iterable[str],
        *,
        feed_url: str | None = None,
        feed_key: SecretStr | None = None,
        deadline_s: float = 60.0,
    ) -> DocumentPolicy:
        """A policy from configured origins (entries that are not an origin are dropped:
        the settings refuse them before this is built)."""
        allowed = frozenset(o for o in (origin_of(x) for x in origins) if o is not None)
        feed = origin_of(feed_url) if feed_url is not None else None
        return cls(allowed, feed, feed_key, deadline_s)

    def allows(self, url: str) -> bool:
        """True when `url` is http(s) without credentials on an allowed origin."""
        origin = origin_of(url)
        return origin is not None and origin in self.origins

    def key_for(self, url: str) -> SecretStr | None:
        """The feed key when `url` is on the feed's own origin, else None."""
        if self.feed_origin is None or origin_of(url) != self.feed_origin:
            return None
        return self.feed_key


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
    policy: DocumentPolicy,
    max_bytes: int,
) -> bytes:
    """The verified bytes of `source` (inline or fetched); see the module docstring."""
    _declared_pdf(source)
    if source.content_base64 is not None:
        return check_document(_inline(source, max_bytes), source, max_bytes=max_bytes)
    if source.document_ref is None:
        raise PermanentError("document refused: neither document_ref nor content_base64 given")
    data = await _download(source.document_ref, http, policy, max_bytes)
    return check_document(data, source, max_bytes=max_bytes)


def _refused_connection(exc: httpx.TransportError) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return True
        cause = cause.__cause__ or cause.__context__
    return isinstance(exc, httpx.ConnectError) and "refused" in str(exc).lower()


async def _download(
    url: str, http: httpx.AsyncClient, policy: DocumentPolicy, max_bytes: int
) -> bytes:
    origin = origin_of(url)
    if origin is None or not policy.allows(url):
        shown = origin or urlsplit(url).scheme + "://" + (urlsplit(url).hostname or "?")
        raise PermanentError(
            f"document refused: origin {_shown(shown)!r} is not in the tenant's document_origins"
        )
    headers = {"Accept": PDF_MEDIA_TYPE, **internal_auth_headers(policy.key_for(url))}
    request = http.build_request("GET", url, headers=headers)
    endpoint = f"GET document from {origin}"
    try:
        async with asyncio.timeout(policy.deadline_s):
            # never follow a redirect, even on a client that does: it could leave the origins
            response = await http.send(request, stream=True, follow_redirects=False)
            try:
                return await _read(response, origin, max_bytes)
            finally:
                await response.aclose()
    except TimeoutError:
        raise TransientError(
            f"{endpoint} failed: over its total deadline of {policy.deadline_s:g} s"
        ) from None
    except httpx.TransportError as exc:
        if _refused_connection(exc):
            raise PermanentError(
                f"document refused: {origin} refused the connection (nothing listens there)"
            ) from None
        error = transport_error(exc, op_ref=None, endpoint=origin, method="GET")
        if isinstance(error, AmbiguousError | TransientError):  # a GET: repeating is safe
            raise TransientError(f"{endpoint} failed: {type(exc).__name__}") from None
        raise error from None


async def _read(response: httpx.Response, host: str, max_bytes: int) -> bytes:
    if response.is_redirect or 300 <= response.status_code < 400:
        raise PermanentError(
            f"document refused: redirect ({response.status_code} from {host!r}); documents "
            "are fetched only from the tenant's document_origins, without redirects"
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
