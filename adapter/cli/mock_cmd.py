"""`stafett mock`: the mock server of every remote system, for developers and docker-compose."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["register"]


def mock(
    host: Annotated[
        str, typer.Option(envvar="STAFETT_MOCK_HOST", help="Interface to listen on.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(envvar="STAFETT_MOCK_PORT", min=0, max=65535, help="TCP port.")
    ] = 8900,
    latency_ms: Annotated[
        int,
        typer.Option(
            "--latency-ms",
            envvar="STAFETT_MOCK_LATENCY_MS",
            min=0,
            help="Base latency added to every non-admin request.",
        ),
    ] = 0,
    rate_limit: Annotated[
        float,
        typer.Option(
            "--rate-limit",
            envvar="STAFETT_MOCK_RATE_LIMIT",
            min=0,
            help="Requests per second per client before 429 (0 = off).",
        ),
    ] = 50.0,
    seed: Annotated[
        int, typer.Option(envvar="STAFETT_MOCK_SEED", help="Seed of the mock's generated ids.")
    ] = 0,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            envvar="STAFETT_MOCK_ACCESS_LOG",
            help="Log a line per request (the request log in /_mock/state is kept either way).",
        ),
    ] = True,
) -> None:
    """Serve the mock (Visma Connect, Flyt Samspill, Public 360, the BTI case system) until
    SIGTERM or Ctrl-C. Admin and fault injection under /_mock."""
    # Imported here: the CLI's other commands should not pay for FastAPI and uvicorn.
    from adapter.mock import MockServer, create_app

    app = create_app(latency_ms=latency_ms, rate_limit=rate_limit, seed=seed)
    MockServer(app, host=host, port=port, access_log=access_log).run()


def register(app: typer.Typer) -> None:
    """Attach `mock` to `app`."""
    app.command("mock")(mock)
