"""Fetching and verifying document bytes: every refusal, and the happy paths."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from adapter.errors import PermanentError, TransientError
from adapter.planning.payloads import DocumentSource
from adapter.targets.documents import DocumentPolicy, fetch_document, origin_of

MINUTES = Path(__file__).resolve().parents[2] / "examples" / "minutes"
PDF = (MINUTES / "minutes-plain.pdf").read_bytes()
SHA = hashlib.sha256(PDF).hexdigest()
URL = "https://bti.modum.invalid/internal/v1/documents/d1"
KEY = SecretStr("feed-key-1234")
POLICY = DocumentPolicy.of(
    ["https://bti.modum.invalid"], feed_url="https://bti.modum.invalid/internal/v1", feed_key=KEY
)

Handler = Callable[[httpx.Request], httpx.Response]


def ref(
    url: str = URL, *, sha256: str | None = SHA, media: str = "application/pdf"
) -> DocumentSource:
    """A source fetched by reference."""
    return DocumentSource(document_ref=url, filename="r.pdf", media_type=media, sha256=sha256)


def inline(data: bytes, *, sha256: str | None = None) -> DocumentSource:
    """A source carried inline."""
    return DocumentSource(
        content_base64=base64.b64encode(data).decode(),
        filename="r.pdf",
        media_type="application/pdf",
        sha256=sha256 if sha256 is not None else hashlib.sha256(data).hexdigest(),
    )


class Served:
    """A fake internal system: answers with `handler`, records requests."""

    def __init__(self, handler: Handler) -> None:
        self.requests: list[httpx.Request] = []
        self._handler = handler

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._handler(request)


def pdf_answer(body: bytes = PDF, media: str = "application/pdf") -> Handler:
    """A handler serving `body` as `media`."""
    return lambda _r: httpx.Response(200, content=body, headers={"Content-Type": media})


async def fetch(
    served: Served,
    source: DocumentSource,
    *,
    max_bytes: int = 1_000_000,
    policy: DocumentPolicy = POLICY,
) -> bytes:
    """fetch_document through a client whose transport is `served`."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(served)) as http:
        return await fetch_document(source, http=http, policy=policy, max_bytes=max_bytes)


async def test_allowed_host_is_fetched_with_the_feed_bearer_key() -> None:
    """A PDF from an allowed host with a matching sha256 comes back as is."""
    served = Served(pdf_answer(media="application/pdf; charset=binary"))
    assert await fetch(served, ref()) == PDF
    (request,) = served.requests
    assert request.headers["Authorization"] == "Bearer feed-key-1234"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.invalid/internal/v1/documents/d1",
        "https://bti.modum.invalid.evil.invalid/d1",
        "https://sub.bti.modum.invalid/d1",
        "https://user:pw@bti.modum.invalid/d1",
        "ftp://bti.modum.invalid/d1",
        "http://bti.modum.invalid/d1",
        "https://bti.modum.invalid:5432/d1",
        "https://bti.modum.invalid:8443/metrics",
    ],
)
async def test_other_origins_are_refused_without_any_request(url: str) -> None:
    """Anything but an allowed scheme + host + port is refused before a request is made."""
    served = Served(pdf_answer())
    with pytest.raises(PermanentError, match="not in the tenant's document_origins"):
        await fetch(served, ref(url))
    assert served.requests == []


def test_an_origin_is_scheme_host_and_port_with_the_default_port_written_out() -> None:
    """Default ports are made explicit, so https://h and https://h:443 are one origin."""
    assert origin_of("https://Bti.Modum.invalid/x?y") == "https://bti.modum.invalid:443"
    assert origin_of("http://mock/x") == "http://mock:80"
    assert origin_of("http://127.0.0.1:5432/") == "http://127.0.0.1:5432"
    assert origin_of("http://u:p@mock/x") is None
    assert origin_of("ftp://mock/x") is None
    assert origin_of("http://mock:notaport/x") is None


async def test_the_feed_key_goes_only_to_the_feeds_own_origin() -> None:
    """A document on another allowed origin is fetched without the feed's key."""
    policy = DocumentPolicy.of(
        ["https://bti.modum.invalid", "https://docs.modum.invalid:8443"],
        feed_url="https://bti.modum.invalid/internal/v1",
        feed_key=KEY,
    )
    served = Served(pdf_answer())
    assert await fetch(served, ref("https://docs.modum.invalid:8443/d1"), policy=policy) == PDF
    assert await fetch(served, ref(), policy=policy) == PDF
    elsewhere, feed = served.requests
    assert "Authorization" not in elsewhere.headers
    assert feed.headers["Authorization"] == "Bearer feed-key-1234"


async def test_a_refused_connection_to_an_allowed_origin_parks() -> None:
    """Nothing listens on the origin: a permanent refusal naming the origin, not a retry."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    with pytest.raises(PermanentError, match="refused the connection"):
        await fetch(Served(refuse), ref())


async def test_a_server_that_drips_bytes_is_cut_at_the_total_deadline() -> None:
    """Each read is quick, but the whole fetch ends at the policy's deadline (transient)."""

    async def drip() -> AsyncIterator[bytes]:
        while True:
            await asyncio.sleep(0.05)
            yield b"%"

    served = Served(
        lambda _r: httpx.Response(200, content=drip(), headers={"Content-Type": "application/pdf"})
    )
    quick = DocumentPolicy.of(["https://bti.modum.invalid"], deadline_s=0.3)
    with pytest.raises(TransientError, match=r"total deadline of 0\.3 s"):
        await fetch(served, ref(), policy=quick)


async def test_over_size_stops_reading_past_the_cap() -> None:
    """A body larger than the cap is refused, and the stream is not read to its end."""
    yielded: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for n in range(1000):
            yielded.append(n)
            yield b"x" * 1024

    served = Served(
        lambda _r: httpx.Response(
            200, content=chunks(), headers={"Content-Type": "application/pdf"}
        )
    )
    with pytest.raises(PermanentError, match="over size"):
        await fetch(served, ref(), max_bytes=10 * 1024)
    assert len(yielded) < 20


async def test_declared_length_over_the_cap_is_refused() -> None:
    """A Content-Length beyond the cap is refused before reading."""
    with pytest.raises(PermanentError, match="over size"):
        await fetch(Served(pdf_answer()), ref(), max_bytes=len(PDF) - 1)


async def test_checksum_mismatch_is_refused() -> None:
    """Bytes whose sha256 differs from the event's are refused."""
    with pytest.raises(PermanentError, match="checksum mismatch"):
        await fetch(Served(pdf_answer()), ref(sha256="0" * 64))


async def test_wrong_served_media_type_is_refused() -> None:
    """A document served as something other than application/pdf is refused."""
    with pytest.raises(PermanentError, match="wrong media type"):
        await fetch(Served(pdf_answer(media="text/html")), ref())


async def test_wrong_declared_media_type_is_refused_without_a_request() -> None:
    """A source declaring another media type is refused before fetching."""
    served = Served(pdf_answer())
    with pytest.raises(PermanentError, match="wrong media type"):
        await fetch(served, ref(media="application/msword"))
    assert served.requests == []


async def test_bytes_that_are_not_a_pdf_are_refused() -> None:
    """Served as a PDF with a matching checksum, but not a PDF: refused."""
    fake = b"%PDF-1.4 but nothing else"
    served = Served(pdf_answer(fake))
    with pytest.raises(PermanentError, match="not a PDF"):
        await fetch(served, ref(sha256=hashlib.sha256(fake).hexdigest()))


async def test_transport_failure_and_5xx_are_transient() -> None:
    """A reset connection or a 503 from the internal system may pass later."""

    def reset(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("reset", request=request)

    with pytest.raises(TransientError):
        await fetch(Served(reset), ref())
    with pytest.raises(TransientError):
        await fetch(Served(lambda _r: httpx.Response(503)), ref())


async def test_missing_document_is_permanent() -> None:
    """A 404 for the document parks the operation."""
    with pytest.raises(PermanentError):
        await fetch(
            Served(lambda _r: httpx.Response(404, json={"type": "x/document-not-found"})), ref()
        )


async def test_inline_content_is_checked_like_fetched_content() -> None:
    """Inline base64: accepted when valid; over size, bad checksum, bad base64, non-PDF refused."""
    served = Served(pdf_answer())
    assert await fetch(served, inline(PDF)) == PDF
    with pytest.raises(PermanentError, match="over size"):
        await fetch(served, inline(PDF), max_bytes=100)
    with pytest.raises(PermanentError, match="checksum mismatch"):
        await fetch(served, inline(PDF, sha256="f" * 64))
    with pytest.raises(PermanentError, match="not a PDF"):
        await fetch(served, inline(b"plain text"))
    broken = inline(PDF).model_copy(update={"content_base64": "!!not base64!!"})
    with pytest.raises(PermanentError, match="base64"):
        await fetch(served, broken)
    assert served.requests == []


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_refused_even_by_a_client_that_follows_redirects(status: int) -> None:
    """A 3xx to another host is never followed: parked as "document refused: redirect"."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "evil.invalid":
            return pdf_answer()(request)
        return httpx.Response(status, headers={"Location": "https://evil.invalid/d1"})

    served = Served(answer)
    transport = httpx.MockTransport(served)
    async with httpx.AsyncClient(transport=transport, follow_redirects=True) as http:
        with pytest.raises(PermanentError, match="document refused: redirect") as caught:
            await fetch_document(ref(), http=http, policy=POLICY, max_bytes=1_000_000)
    assert [r.url.host for r in served.requests] == ["bti.modum.invalid"]
    assert "evil" not in str(caught.value)
