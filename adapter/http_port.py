"""The service's HTTP port as uvicorn serves it: no slow client can hold it.

Contract "Hardening": a request whose headers or body do not arrive within
`http.body_timeout_s` is answered 408 and its connection closed, and counted in metrics.

- Headers: `HeaderDeadline` arms a timer whenever its connection waits for a request's
  headers (a new connection, or the next request of a kept-alive one); when the timer fires
  and the headers are still incomplete, it writes a 408 and closes the connection. uvicorn
  takes the protocol class through its public `http=` setting.
- Body: `BodyDeadline`, an ASGI middleware, reads a request's whole body within the same
  time from the moment its headers were complete (and at most `max_body_bytes + 1` bytes,
  so the app still answers 413 above the limit), then hands it to the app; a body that
  does not arrive in time is answered 408 with `connection: close`.
- Shutdown: uvicorn's graceful shutdown ends after `timeout_s` too, so a trickling client
  cannot hold SIGTERM.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from adapter.logs import get_logger

__all__ = ["BodyDeadline", "header_deadline_protocol", "server_config"]

log = get_logger(__name__)

OnTimeout = Callable[[str], None]
"""Called with "headers" or "body" whenever a request is cut off."""

_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\n"
    b"content-length: 24\r\n"
    b"\r\n"
    b"request headers too slow"
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def header_deadline_protocol(timeout_s: float, on_timeout: OnTimeout) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a deadline for every request's headers."""

    class HeaderDeadline(H11Protocol):
        """Cuts off a connection whose request headers do not arrive in `timeout_s`."""

        header_timer: asyncio.TimerHandle | None = None

        def waiting_for_headers(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def arm(self) -> None:
            if self.header_timer is None and self.waiting_for_headers():
                self.header_timer = asyncio.get_running_loop().call_later(
                    timeout_s, self.headers_overdue
                )

        def headers_overdue(self) -> None:
            self.header_timer = None
            if not self.waiting_for_headers() or self.transport.is_closing():
                return
            on_timeout("headers")
            self.transport.write(_TIMEOUT_RESPONSE)
            self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # uvicorn's own signature narrows asyncio's
            super().connection_made(transport)
            self.arm()

        def data_received(self, data: bytes) -> None:
            self.arm()
            super().data_received(data)
            if self.header_timer is not None and not self.waiting_for_headers():
                self.header_timer.cancel()
                self.header_timer = None

        def connection_lost(self, exc: Exception | None) -> None:
            if self.header_timer is not None:
                self.header_timer.cancel()
                self.header_timer = None
            super().connection_lost(exc)

    return HeaderDeadline


class BodyDeadline:
    """ASGI middleware: a request body arrives whole within `timeout_s`, or 408."""

    def __init__(
        self, app: ASGIApp, *, timeout_s: float, max_bytes: int, on_timeout: OnTimeout
    ) -> None:
        self.app = app
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.on_timeout = on_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        try:
            async with asyncio.timeout(self.timeout_s):
                body = await self._read(receive)
        except TimeoutError:
            self.on_timeout("body")
            await _answer_408(send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # only a disconnect can come now

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive) -> bytes:
        """The body, cut once it is over `max_bytes` (the app then answers 413)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk: bytes = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_bytes or not message.get("more_body", False):
                break
        return b"".join(chunks)


async def _answer_408(send: Send) -> None:
    text = b"request body too slow"
    await send(
        {
            "type": "http.response.start",
            "status": 408,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(text)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": text})


def server_config(
    app: Any, *, host: str, port: int, timeout_s: float, on_timeout: OnTimeout
) -> uvicorn.Config:
    """uvicorn's settings for the service's port: our logging, no access log, no lifespan,
    the header deadline and a graceful shutdown bounded by `timeout_s`."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
        http=header_deadline_protocol(timeout_s, on_timeout),
        timeout_graceful_shutdown=max(1, round(timeout_s)),
    )
