"""The `stafett` command line: thin wiring over the library, one module per command group.

Each command module exposes `register(app)`; nothing in `adapter/` imports this package.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)

from adapter.cli import _common
from adapter.errors import ConfigError, RejectedInput, StafettError
from adapter.logs import configure_logging, mask_text

__all__ = ["app", "last_resort_line", "main"]

app = typer.Typer(
    name="stafett",
    help="stafett: keeps the BTI case system, Flyt Samspill and Public 360 in step.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="STAFETT_CONFIG",
            help="Settings file (default config/stafett.toml).",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    ctx.obj = _common.CliContext(config_path=config, debug=debug)
    # Redacted logs on stderr from the start; commands that read settings reconfigure.
    configure_logging(fmt="console", level="INFO")


def _register_all() -> None:
    # Imported here so that each command group stays its own module.
    from adapter.cli import commands

    commands.register_all(app)


_register_all()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; an unexpected error becomes one line on stderr and an exit code.

    Usage errors are click's (exit 2). `--debug` shows the traceback instead.
    """
    args = argv if argv is not None else sys.argv[1:]
    try:
        app(args=args, prog_name="stafett")
    except Exception as exc:  # the CLI's last line of defence: no tracebacks for operators
        if "--debug" in args:
            raise
        code = (
            _common.EXIT_BAD_INPUT
            if isinstance(exc, ConfigError | RejectedInput)
            else _common.EXIT_FAILURE
        )
        _common.err_console.print(
            f"[bold red]error:[/] {escape(last_resort_line(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(code)


# Driver errors of these kinds name a table, column or constraint in their first line;
# others (a DataError) may quote a value, so only their kind is shown.
_SCHEMA_ERRORS = (IntegrityError, OperationalError, ProgrammingError)


def last_resort_line(exc: BaseException) -> str:
    """The one line an unexpected error becomes: masked, and never a SQL statement or its data.

    `--debug` shows the traceback instead (statement parameters stay hidden by the engine).
    """
    if isinstance(exc, SQLAlchemyError):
        orig = exc.orig if isinstance(exc, DBAPIError) else None
        text = f"database error ({type(orig or exc).__name__})"
        if isinstance(exc, _SCHEMA_ERRORS) and orig is not None:
            first = str(orig).strip().splitlines()
            if first:
                text += f": {first[0]}"
    elif isinstance(exc, StafettError):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return mask_text(line.split("[SQL:", 1)[0].strip())
