"""The service's HTTP port over a real socket: a client that trickles its headers or its body
is answered 408 and cut off, and cannot hold a shutdown."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn

from adapter.http_port import server_config
from adapter.metrics import Metrics
from adapter.settings import load_settings
from adapter.store import Store
from adapter.web import create_web_app, request_timed_out
from tests.support.mock_process import free_port

ROOT = Path(__file__).resolve().parents[2]
FIRST = (ROOT / "examples/events/modum.jsonl").read_text().splitlines()[0].encode()
TOKEN = b"Authorization: Bearer modum-push-demo-token\r\n"
DEADLINE_S = 0.5


@dataclass
class Port:
    """A running port and what it counted."""

    port: int
    server: uvicorn.Server
    task: asyncio.Task[None]
    metrics: Metrics
    cut: list[str] = field(default_factory=list)  # header deadlines the protocol hit

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)

    def timeouts_counted(self) -> float:
        value = self.metrics.registry.get_sample_value(
            "stafett_push_requests_total", {"status": "408"}
        )
        return value or 0.0


@pytest.fixture
async def port(store: Store) -> AsyncIterator[Port]:
    """The service's port (demo settings) with a short deadline, on 127.0.0.1."""
    if store.backend != "sqlite":
        pytest.skip("the port's deadlines do not depend on the store: SQLite is enough")
    settings = load_settings(
        ROOT / "config" / "demo.toml", environ={"STAFETT_HTTP__BODY_TIMEOUT_S": str(DEADLINE_S)}
    )
    metrics = Metrics()
    app = create_web_app(
        settings=settings, store=store, rules=settings.tenants.get, metrics=metrics
    )
    cut: list[str] = []

    def on_timeout(part: str) -> None:
        cut.append(part)
        request_timed_out(metrics, part)

    number = free_port()
    config = server_config(
        app,
        host="127.0.0.1",
        port=number,
        timeout_s=settings.http.body_timeout_s,
        on_timeout=on_timeout,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    running = Port(number, server, task, metrics, cut)
    yield running
    server.should_exit = True
    await asyncio.wait_for(task, 10)


async def _answer(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (at most 5 s)."""
    return await asyncio.wait_for(reader.read(), 5)


async def _trickle(writer: asyncio.StreamWriter, data: bytes, every_s: float = 0.1) -> None:
    for byte in data:
        if writer.is_closing():
            return
        writer.write(bytes([byte]))
        try:
            await writer.drain()
        except ConnectionError:
            return
        await asyncio.sleep(every_s)


async def test_headers_that_trickle_are_answered_408_and_closed(port: Port) -> None:
    """A client sending one header byte every 0.1 s is cut off at the deadline."""
    reader, writer = await port.connect()
    request = b"POST /events HTTP/1.1\r\nHost: stafett\r\n" + TOKEN + b"X-Slow: " + b"a" * 100
    feeding = asyncio.create_task(_trickle(writer, request))
    started = time.monotonic()
    answer = await _answer(reader)
    feeding.cancel()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < DEADLINE_S + 2
    assert port.cut == ["headers"]
    assert port.timeouts_counted() == 1


async def test_a_body_that_trickles_is_answered_408_and_closed(port: Port) -> None:
    """Complete headers, then a body at 10 B/s: 408 and the connection closed."""
    reader, writer = await port.connect()
    head = (
        b"POST /events HTTP/1.1\r\nHost: stafett\r\n"
        + TOKEN
        + b"Content-Type: application/json\r\n"
        + f"Content-Length: {len(FIRST)}\r\n\r\n".encode()
    )
    writer.write(head)
    feeding = asyncio.create_task(_trickle(writer, FIRST))
    answer = await _answer(reader)
    feeding.cancel()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"connection: close" in answer.lower()
    assert port.cut == []  # the headers were in time: the body deadline cut it
    assert port.timeouts_counted() == 1


async def test_a_prompt_push_is_still_accepted(port: Port) -> None:
    """The deadlines leave an ordinary push alone (202, the event accepted)."""
    reader, writer = await port.connect()
    writer.write(
        b"POST /events HTTP/1.1\r\nHost: stafett\r\n"
        + TOKEN
        + b"Content-Type: application/json\r\nConnection: close\r\n"
        + f"Content-Length: {len(FIRST)}\r\n\r\n".encode()
        + FIRST
    )
    answer = await _answer(reader)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 202")
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert [r["result"] for r in body["results"]] == ["accepted"]
    assert port.cut == []


async def test_a_trickling_client_cannot_hold_the_shutdown(port: Port) -> None:
    """Asked to stop while a client trickles its body, the port is gone within the deadline
    and uvicorn's bounded graceful shutdown."""
    reader, writer = await port.connect()
    writer.write(
        b"POST /events HTTP/1.1\r\nHost: stafett\r\n" + TOKEN + b"Content-Length: 100000\r\n\r\n"
    )
    feeding = asyncio.create_task(_trickle(writer, b"x" * 1000, every_s=0.05))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    port.server.should_exit = True
    await asyncio.wait_for(asyncio.shield(port.task), 10)
    assert time.monotonic() - started < DEADLINE_S + 3
    feeding.cancel()
    writer.close()
    del reader
