"""httpcore's network layer on asyncio's own transports, for the outbound client.

httpx's default network layer goes through anyio. Its pool asks every connection on every
request whether the server has closed it (`get_extra_info("is_readable")`), and anyio answers
each ask by rebuilding a table of socket attributes with a `getpeername` system call, then
polling the socket: a third of the client's time at 16 calls in flight (measured with
py-spy; see the CHANGELOG). Here a connection is an `asyncio.Protocol` that keeps what the
transport has read in its own buffer, so "readable while idle" is a look at that buffer:
the event loop reads a socket as soon as it is readable, so bytes or an end of stream from
the server show up there.

The stream keeps httpcore's contract: its exceptions (`ConnectError`, `ReadTimeout`, …,
which httpx maps to its own), `b""` at the end of the stream, TLS by `start_tls` (also
inside a proxy tunnel), timeouts per call in seconds or None.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Coroutine, Iterable
from typing import Any, cast

import httpcore
import httpx

__all__ = ["AsyncioBackend", "switch_pool", "use_asyncio_network"]

_READ_HIGH_WATER = 256 * 1024
"""Unread bytes above which the transport stops reading until the client catches up."""

_SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class _Wire(asyncio.Protocol):
    """One connection's protocol: a read buffer, end-of-stream, write flow control."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._eof = False
        self._lost: BaseException | None = None
        self._closed = False
        self._reading_paused = False
        self._writing_paused = False
        self._data_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None

    # -- asyncio callbacks -----------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) > _READ_HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
            self._reading_paused = True
        self._wake_reader()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake_reader()
        return False  # close the transport: HTTP/1.1 has no use for a half-closed socket

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._closed = True
        self._lost = exc
        self._wake_reader()
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_reader(self) -> None:
        waiter, self._data_waiter = self._data_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- what the stream asks ------------------------------------------------------
    @property
    def readable_while_idle(self) -> bool:
        return bool(self._buffer) or self._eof

    async def read(self, max_bytes: int) -> bytes:
        while not self._buffer and not self._eof:
            self._data_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._data_waiter
            finally:
                self._data_waiter = None
        if self._buffer:
            chunk = bytes(self._buffer[:max_bytes])
            del self._buffer[:max_bytes]
            if self._reading_paused and len(self._buffer) <= _READ_HIGH_WATER // 4:
                self._reading_paused = False
                if self.transport is not None and not self._closed:
                    self.transport.resume_reading()
            return chunk
        if self._lost is not None:
            raise httpcore.ReadError(f"connection lost: {type(self._lost).__name__}")
        return b""

    async def write(self, data: bytes) -> None:
        transport = self.transport
        if transport is None or self._closed or transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        transport.write(data)
        while self._writing_paused and not self._closed:
            self._drain_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._drain_waiter
            finally:
                self._drain_waiter = None
        if self._closed and self._lost is not None:
            raise httpcore.WriteError(f"connection lost: {type(self._lost).__name__}")


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, wire: _Wire) -> None:
        self._wire = wire

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._wire.read(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout("no data within the read timeout") from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            async with asyncio.timeout(timeout):
                await self._wire.write(buffer)
        except TimeoutError as exc:
            raise httpcore.WriteTimeout("not written within the write timeout") from exc

    async def aclose(self) -> None:
        if self._wire.transport is not None:
            self._wire.transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        transport = self._wire.transport
        if transport is None or transport.is_closing():
            raise httpcore.ConnectError("the connection closed before TLS")
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                tls = await loop.start_tls(
                    transport, self._wire, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as exc:
            transport.close()
            raise httpcore.ConnectTimeout("TLS handshake timed out") from exc
        except (OSError, ssl.SSLError) as exc:
            transport.close()
            raise httpcore.ConnectError(f"TLS handshake failed: {exc}") from exc
        if tls is None:  # only when the transport closed during the handshake
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        self._wire.transport = tls
        return self

    def get_extra_info(self, info: str) -> Any:
        transport = self._wire.transport
        if info == "is_readable":
            return self._wire.readable_while_idle
        if transport is None:
            return None
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Connections for httpcore's pool made by the running asyncio loop."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address is not None else None
        connecting = loop.create_connection(_Wire, host, port, local_addr=local)
        return await _open(connecting, f"port {port}", timeout, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        connecting = asyncio.get_running_loop().create_unix_connection(_Wire, path)
        return await _open(connecting, "the unix socket", timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _open(
    connecting: Coroutine[Any, Any, tuple[asyncio.BaseTransport, _Wire]],
    where: str,
    timeout: float | None,
    options: Iterable[_SocketOption] | None,
) -> httpcore.AsyncNetworkStream:
    """Await a connection within `timeout`, as httpcore's errors; then set `options`."""
    try:
        async with asyncio.timeout(timeout):
            transport, wire = await connecting
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(f"no connection to {where} in time") from exc
    except OSError as exc:
        raise httpcore.ConnectError(f"connection to {where} failed: {exc}") from exc
    sock = transport.get_extra_info("socket")
    for option in options or ():
        sock.setsockopt(*option)
    return _Stream(wire)


def switch_pool(transport: object, backend: httpcore.AsyncNetworkBackend) -> bool:
    """Put the pool of an `httpx.AsyncHTTPTransport` on `backend`; whether it could.

    httpx builds its pools itself and takes no network backend, so this sets the pool's
    backend after construction, before it made any connection. A transport of another
    shape (an injected test transport, a future httpcore) keeps its own: slower, not wrong.
    """
    if not isinstance(transport, httpx.AsyncHTTPTransport):
        return False
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.AsyncConnectionPool) or not hasattr(pool, "_network_backend"):
        return False
    pool._network_backend = backend
    return True


def use_asyncio_network(client: httpx.AsyncClient) -> int:
    """Put every plain httpx pool of `client` (direct and proxy mounts) on `AsyncioBackend`;
    returns how many it switched."""
    backend = AsyncioBackend()
    transports: list[object] = [client._transport, *client._mounts.values()]
    return sum(switch_pool(transport, backend) for transport in transports)
