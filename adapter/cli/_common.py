"""What every CLI command shares: the context object, settings loading, output helpers."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from adapter.events import RulesLookup
from adapter.settings import Settings, TenantConfig, load_settings
from adapter.store.engine import open_store
from adapter.store.store import Store

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILURE",
    "CliContext",
    "console",
    "err_console",
    "fail",
    "get_ctx",
    "load",
    "print_json",
    "rules_of",
    "run_async",
    "store_of",
]

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)


@dataclass(frozen=True)
class CliContext:
    """Global options, handed to every command through `typer.Context.obj`."""

    config_path: Path | None
    debug: bool


def get_ctx(ctx: typer.Context) -> CliContext:
    """The `CliContext` of the running command."""
    obj = ctx.find_root().obj
    assert isinstance(obj, CliContext)
    return obj


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from a synchronous command."""
    return asyncio.run(coro)


def print_json(payload: object) -> None:
    """One JSON object on stdout, for machines."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    """One clear line on stderr, then exit with `code`."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def load(ctx: typer.Context) -> Settings:
    """The settings of this invocation (global `--config`, env `STAFETT_*`)."""
    return load_settings(get_ctx(ctx).config_path)


def rules_of(settings: Settings) -> RulesLookup:
    """Tenant key → its validation rules (None for an unknown tenant)."""

    def lookup(key: str) -> TenantConfig | None:
        return settings.tenants.get(key)

    return lookup


async def store_of(settings: Settings) -> Store:
    """Open the store of the settings (SQLite upgrades itself; PostgreSQL must be current)."""
    return await open_store(settings.database_url)
