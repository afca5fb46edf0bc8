"""The shared outbound client (`build_client`, a plain `httpx.AsyncClient`) over real
sockets on 127.0.0.1: what every target relies on from it.

Each test runs a small asyncio server that answers the way a case needs (keep-alive, an
idle close, silence, a reset, big bodies, TLS, a CONNECT proxy) and drives it through
`build_client`, the client every target uses.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import socket
import ssl
import struct
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from adapter.errors import AmbiguousError, TransientError
from adapter.targets.http import build_client, transport_error

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serving(
    handler: Handler, *, tls: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[int, list[int]]]:
    """Serve `handler` on a free port; yields the port and a list of accepted connections."""
    accepted: list[int] = []

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(len(accepted) + 1)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(counted, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, accepted
    finally:
        server.close()
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> bytes | None:
    """One request's body (by Content-Length), or None at the end of the stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return await reader.readexactly(length) if length else b""


def response(body: bytes, *, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        + extra
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while (body := await read_request(reader)) is not None:
        writer.write(response(b"ok:" + str(len(body)).encode()))
        await writer.drain()


def client(**kwargs: object) -> httpx.AsyncClient:
    timeout = kwargs.pop("timeout_s", 5.0)
    assert isinstance(timeout, float)
    return build_client(timeout_s=timeout, ca_bundle=None, **kwargs)  # type: ignore[arg-type]


async def test_close_closes_the_kept_alive_connection() -> None:
    closed: list[int] = []

    async def count_closes(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await keep_alive(reader, writer)
        closed.append(1)  # the client closed this connection

    async with serving(count_closes) as (port, accepted):
        async with client() as http:
            for n in range(3):
                got = await http.post(f"http://127.0.0.1:{port}/", content=b"z" * n)
                assert got.content == f"ok:{n}".encode()
        for _ in range(100):  # the server sees the end of stream soon after the close
            if closed:
                break
            await asyncio.sleep(0.01)
    assert accepted == [1]
    assert closed == [1]


async def test_sequential_calls_reuse_one_kept_alive_connection() -> None:
    async with serving(keep_alive) as (port, accepted), client() as http:
        for n in range(20):
            got = await http.post(f"http://127.0.0.1:{port}/", content=b"x" * n)
            assert got.content == f"ok:{n}".encode()
    assert accepted == [1]


async def test_concurrent_calls_each_get_their_answer() -> None:
    async with serving(keep_alive) as (port, accepted), client() as http:
        sizes = list(range(1, 41))
        answers = await asyncio.gather(
            *(http.post(f"http://127.0.0.1:{port}/", content=b"y" * n) for n in sizes)
        )
    assert [a.content for a in answers] == [f"ok:{n}".encode() for n in sizes]
    assert 1 <= len(accepted) <= 40


async def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async def one_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(response(b"once"))  # no "Connection: close": the client learns by EOF
        await writer.drain()

    async with serving(one_then_close) as (port, accepted), client() as http:
        url = f"http://127.0.0.1:{port}/"
        assert (await http.get(url)).content == b"once"
        await asyncio.sleep(0.1)  # the server's FIN arrives while the connection is idle
        assert (await http.get(url)).content == b"once"
    assert accepted == [1, 2]


async def test_a_silent_server_gives_a_read_timeout_that_counts_as_ambiguous() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    async with serving(silent) as (port, _), client(timeout_s=0.2) as http:
        with pytest.raises(httpx.ReadTimeout) as caught:
            await http.post(f"http://127.0.0.1:{port}/plans", content=b"{}")
    error = transport_error(caught.value, op_ref="ref-1", endpoint="/plans", method="POST")
    assert type(error) is AmbiguousError


async def test_a_refused_connection_gives_a_connect_error_that_counts_as_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        async with client() as http:
            with pytest.raises(httpx.ConnectError) as caught:
                await http.get(f"http://127.0.0.1:{port}/")
    error = transport_error(caught.value, op_ref=None, endpoint="/", method="GET")
    assert type(error) is TransientError


async def test_a_reset_mid_response_is_an_ambiguous_transport_error() -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        await writer.drain()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async with serving(reset) as (port, _), client() as http:
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)) as caught:
            await http.post(f"http://127.0.0.1:{port}/plans", content=b"{}")
    assert isinstance(caught.value, httpx.TransportError)
    error = transport_error(caught.value, op_ref="ref-2", endpoint="/plans", method="POST")
    assert type(error) is AmbiguousError


async def test_large_bodies_cross_intact_both_ways() -> None:
    upload = bytes(range(256)) * (16 * 1024)  # 4 MiB
    download = hashlib.sha256(upload).digest() * (96 * 1024)  # 3 MiB

    async def echo_digest(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        body = await read_request(reader)
        assert body is not None
        digest = hashlib.sha256(body).hexdigest().encode()
        writer.write(response(download, extra=b"X-Digest: " + digest + b"\r\n"))
        await writer.drain()

    async with serving(echo_digest) as (port, _), client() as http:
        got = await http.post(f"http://127.0.0.1:{port}/", content=upload)
    assert got.headers["X-Digest"] == hashlib.sha256(upload).hexdigest()
    assert got.content == download


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and its key), made with openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed: no certificate for the TLS tests")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    command = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1"
    subprocess.run(
        [
            *command.split(),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


async def test_tls_is_verified_against_the_given_ca_bundle(
    certificate: tuple[Path, Path],
) -> None:
    async with (
        serving(keep_alive, tls=server_tls(certificate)) as (port, _),
        build_client(timeout_s=5.0, ca_bundle=certificate[0]) as http,
    ):
        got = await http.post(f"https://127.0.0.1:{port}/", content=b"secret")
        stream = got.extensions["network_stream"]
        assert stream.get_extra_info("ssl_object") is not None
    assert got.content == b"ok:6"


async def test_an_untrusted_certificate_fails_as_a_connect_error(
    certificate: tuple[Path, Path],
) -> None:
    async with (
        serving(keep_alive, tls=server_tls(certificate)) as (port, _),
        build_client(timeout_s=5.0, ca_bundle=None) as http,
    ):
        with pytest.raises(httpx.ConnectError):
            await http.get(f"https://127.0.0.1:{port}/")


async def test_https_through_a_connect_proxy_tunnels_and_verifies_tls(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    tunnels: list[bytes] = []

    async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()
        finally:
            sink.close()

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        method, target, _ = head.split(b"\r\n", 1)[0].split(b" ", 2)
        assert method == b"CONNECT"
        tunnels.append(target)
        host, _, port = target.decode().rpartition(":")
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    async with (
        serving(keep_alive, tls=server_tls(certificate)) as (port, _),
        serving(proxy) as (proxy_port, _),
    ):
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy_port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with build_client(timeout_s=5.0, ca_bundle=certificate[0]) as http:
            got = await http.post(f"https://127.0.0.1:{port}/", content=b"abc")
    assert got.content == b"ok:3"
    assert tunnels == [f"127.0.0.1:{port}".encode()]
