"""The status page in a real headless browser: Debian's chromium, driven by Playwright.

After a fault parks an archive document, an operator signs in with the operator token and
sees the parked case and its reason (the nin in the remote's error text masked), and the
page carries no nin and no name of the case's people. The adapter's HTTP port is served
by uvicorn on a real socket, on a store the engine filled against the in-process mock.

Playwright cannot download its own browsers here: it drives the system's `chromium`
(`executable_path`). Under CI (`CI=true`) a missing chromium is a failure (`.ci/run`
installs it); elsewhere the test skips, saying so.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from adapter.metrics import Metrics
from adapter.settings import Settings
from adapter.store import open_store
from adapter.web import create_web_app
from tests.support.engine import (
    SharedClock,
    demo_settings,
    example_events,
    mock_for,
    open_engine,
    people_of,
)

TOKEN = "operator-token-in-the-browser"
NIN = "14831651238"  # Tenor synthetic
FAULT = {
    "match": {"method": "POST", "path": "CreateDocument"},
    "action": {"p360_error": f"Validation: fødselsnummer {NIN} finnes ikke i kontaktregisteret"},
    "times": 1,
}
_NIN_SHAPED = re.compile(r"(?<!\d)\d{6}[ .-]?\d{5}(?!\d)")


def _chromium() -> str:
    """The system chromium, or skip (fail under CI, where .ci/run installs it)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing under CI: .ci/run installs it (apt-get)")
        pytest.skip("no chromium on this machine: apt-get install -y chromium (CI installs it)")
    return found


async def _park_a_document(settings: Settings) -> None:
    """Run modum's example case through the engine with the fault installed: one archive
    document is parked with the remote's error text."""
    clock = SharedClock()
    async with open_engine(settings, app=mock_for(clock), clock=clock) as engine:
        await engine.fault(FAULT)
        await engine.seed(example_events("modum"))
        report = await engine.drain()
    assert report.parked_cases == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _serve(settings: Settings) -> Iterator[str]:
    """The adapter's HTTP port on a real socket (a thread of its own); yields its URL."""
    port = _free_port()
    servers: list[uvicorn.Server] = []

    async def main() -> None:
        async with await open_store(settings.database_url) as store:
            app = create_web_app(
                settings=settings, store=store, rules=settings.tenants.get, metrics=Metrics()
            )
            config = uvicorn.Config(
                app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
            )
            server = uvicorn.Server(config)
            servers.append(server)
            await server.serve()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not (servers and servers[0].started):
        assert thread.is_alive() and time.monotonic() < deadline, "the HTTP port did not start"
        time.sleep(0.05)  # a real server on a real socket: no fake clock to move
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        servers[0].should_exit = True
        thread.join(timeout=30)


def test_an_operator_sees_a_parked_case_and_its_reason_in_a_browser(tmp_path: Path) -> None:
    """Sign in through the form; the page lists modum's parked archive case with the
    reason, the nin masked; no nin-shaped number and no person's name anywhere in it."""
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    settings = demo_settings(tmp_path / "status.db", STAFETT_HTTP__STATUS_TOKEN=TOKEN)
    asyncio.run(_park_a_document(settings))
    nins, names = people_of(example_events("modum"))
    with _serve(settings) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(java_script_enabled=False)  # the page needs none
            answer = page.goto(f"{url}/status")
            assert answer is not None and answer.status == 401
            assert page.locator("form[action='/status/login']").count() == 1
            page.fill("#token", TOKEN)
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}/status")
            rows = page.locator("#tenant-modum tr.parked")
            assert rows.count() == 1
            row = rows.first.inner_text()
            assert "BTI-2026-0042" in row and "p360" in row and "create-document" in row
            reason = page.locator("#tenant-modum tr.parked td.reason").inner_text()
            assert reason.startswith("SifPermanentError: DocumentService/CreateDocument")
            assert reason.endswith(
                "— Validation: fødselsnummer *********** finnes ikke i kontaktregisteret"
            )
            html = page.content()
            page.screenshot(path=str(tmp_path / "status.png"), full_page=True)
        finally:
            browser.close()
    assert _NIN_SHAPED.search(html) is None
    assert not [n for n in nins if n in html]
    assert not [n for n in names if n in html]
    assert (tmp_path / "status.png").stat().st_size > 0
