"""`stafett db upgrade`: apply the store's schema migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from adapter.cli._common import console, get_ctx, print_json, run_async
from adapter.settings import load_settings
from adapter.store.database import safe_url
from adapter.store.migrate import upgrade

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Attach the `db` command group to `app`."""
    db = typer.Typer(help="The store (database): migrations.", no_args_is_help=True)

    @db.command("upgrade")
    def upgrade_cmd(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    ) -> None:
        """Apply pending migrations to the database of the settings (STAFETT_DATABASE_URL).

        PostgreSQL needs this once per release, before the replicas start; SQLite also
        upgrades itself when it is opened.
        """
        url = load_settings(get_ctx(ctx).config_path).database_url
        applied = run_async(upgrade(url))
        if as_json:
            print_json({"database": safe_url(url), "applied": applied})
        elif applied:
            console.print(f"{safe_url(url)}: applied {', '.join(applied)}", highlight=False)
        else:
            console.print(f"{safe_url(url)}: already up to date", highlight=False)

    app.add_typer(db, name="db")
