"""`stafett run` (the service, or `--once`) and `stafett demo`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from adapter.cli._common import (
    EXIT_BAD_INPUT,
    console,
    fail,
    get_ctx,
    load,
    print_json,
    run_async,
)
from adapter.cli.demo import DemoResult, run_demo
from adapter.jobs.once import RunOnceReport, run_once
from adapter.logs import configure_logging
from adapter.settings import Settings, load_settings
from adapter.wiring.runtime import Runtime

__all__ = ["demo_root", "register"]

_JSON = typer.Option("--json", help="One JSON object on stdout.")
DEMO_CONFIG = Path("config/demo.toml")
EXAMPLES = Path("examples/events")
_CHECKOUT = Path(__file__).resolve().parents[2]  # the repository, when run from a checkout


def demo_root(candidates: Iterable[Path] = ()) -> Path | None:
    """The first of `candidates` (default: the working directory, then the checkout this
    package lives in) that holds both `config/demo.toml` and `examples/events`."""
    for base in candidates or (Path.cwd(), _CHECKOUT):
        if (base / DEMO_CONFIG).is_file() and (base / EXAMPLES).is_dir():
            return base
    return None


def _logging(settings: Settings, *, service: bool) -> None:
    fmt = "json" if service else settings.log.format.value
    configure_logging(fmt=fmt, level=settings.log.level)  # type: ignore[arg-type]


def register(app: typer.Typer) -> None:
    """Attach `run` and `demo` to `app`."""

    @app.command("run")
    def run_cmd(
        ctx: typer.Context,
        once: Annotated[
            bool, typer.Option("--once", help="Every job until nothing is due, then exit.")
        ] = False,
        max_wait: Annotated[
            float,
            typer.Option("--max-wait", min=0, help="With --once: wait for retries due within S s."),
        ] = 60.0,
        as_json: Annotated[bool, _JSON] = False,
    ) -> None:
        """The service: feed polling, planning, dispatch, the HTTP port; stops on SIGTERM."""
        settings = load(ctx)
        _logging(settings, service=not once)

        async def go_once() -> RunOnceReport:
            rt = await Runtime.open(settings)
            try:
                return await run_once(rt, max_wait_s=max_wait)
            finally:
                await rt.close()

        async def go_serve() -> None:
            from adapter.service import serve

            rt = await Runtime.open(settings)
            try:
                await serve(rt)
            finally:
                await rt.close()

        if not once:
            run_async(go_serve())
            return
        report = run_async(go_once())
        if as_json:
            print_json(report.as_json())
        else:
            console.print(
                f"planned {report.events_planned} events, {report.operations_done} operations "
                f"done, {report.operations_pending} pending, {report.parked_cases} parked cases",
                highlight=False,
            )

    @app.command("demo")
    def demo_cmd(
        ctx: typer.Context,
        examples: Annotated[
            Path | None,
            typer.Option(
                "--examples",
                envvar="STAFETT_DEMO_EXAMPLES",
                file_okay=False,
                help="Event streams to load (*.jsonl but bad.jsonl); default examples/events "
                "of the repository.",
            ),
        ] = None,
        as_json: Annotated[bool, _JSON] = False,
    ) -> None:
        """Start the mock in-process, load examples/events, run until drained, show the result.

        Uses config/demo.toml unless --config is given, on a fresh var/demo.db. The
        repository is found from the working directory or from where stafett is installed.
        """
        root = demo_root()
        config = get_ctx(ctx).config_path or (root / DEMO_CONFIG if root else None)
        streams = examples or (root / EXAMPLES if root else None)
        if config is None or streams is None:
            fail(
                "demo needs config/demo.toml and examples/events: run it from the repository "
                "(or give --config and --examples)",
                EXIT_BAD_INPUT,
            )
        if not any(p.name != "bad.jsonl" for p in streams.glob("*.jsonl")):
            fail(f"no event streams (*.jsonl) in {streams}", EXIT_BAD_INPUT)
        settings = load_settings(config)
        db = Path("var/demo.db")
        if settings.database_url.endswith(str(db)):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
        _logging(settings, service=False)
        result = run_async(run_demo(settings, streams))
        if as_json:
            print_json({"run": result.run.as_json(), "remote": _summary(result)})
            return
        _print_demo(result)


def _summary(result: DemoResult) -> dict[str, Any]:
    plans = result.remote["samspill"]["plans"]
    p360 = result.remote["p360"]
    return {
        "plans": [
            {
                "planId": p["planId"],
                "type": p["planTypeId"],
                "status": p["status"],
                "closedReason": p.get("closedReason"),
                **{k: len(p.get(k) or []) for k in _COLLECTIONS},
            }
            for p in plans
        ],
        "archive_cases": [
            {"CaseNumber": c["CaseNumber"], "Title": c["Title"], "Status": c.get("Status")}
            for c in p360["cases"]
        ],
        "archive_documents": [
            {
                "DocumentNumber": d["DocumentNumber"],
                "Title": d["Title"],
                "Category": d["Category"],
                "VersionFormat": _version_format(d),
            }
            for d in p360["documents"]
        ],
    }


def _version_format(document: dict[str, Any]) -> str | None:
    """The main file's VersionFormat (A: PDF/A, P: other PDF), as the archive received it."""
    files = document.get("Files") or []
    main = files[0] if files and isinstance(files[0], dict) else {}
    value = main.get("VersionFormat")
    return value if isinstance(value, str) else None


_COLLECTIONS = (
    "participants",
    "consents",
    "goals",
    "measures",
    "responsibilities",
    "calendar",
    "log",
)


def _print_demo(result: DemoResult) -> None:
    summary = _summary(result)
    run = result.run
    console.print(
        f"demo: {run.events_polled} events from the feed, {run.events_planned} planned, "
        f"{run.operations_done} remote operations done, {run.operations_pending} pending, "
        f"{run.parked_cases} parked cases",
        highlight=False,
    )
    plans = Table("plan", "type", "status", *_COLLECTIONS, title="Flyt Samspill plans")
    for p in summary["plans"]:
        status = p["status"] + (f" ({p['closedReason']})" if p["closedReason"] else "")
        plans.add_row(p["planId"][:8], p["type"], status, *(str(p[k]) for k in _COLLECTIONS))
    console.print(plans)
    cases = Table("case number", "title", "status", title="Public 360 archive cases")
    for c in summary["archive_cases"]:
        cases.add_row(c["CaseNumber"], c["Title"], str(c["Status"]))
    console.print(cases)
    docs = Table("document", "title", "category", "format", title="Public 360 documents")
    for d in summary["archive_documents"]:
        docs.add_row(
            d["DocumentNumber"], d["Title"], str(d["Category"]), str(d["VersionFormat"] or "-")
        )
    console.print(docs)
