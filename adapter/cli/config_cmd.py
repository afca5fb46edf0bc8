"""`stafett config check`: validate settings and secrets, show them masked, optionally probe.

The effective configuration is printed with every secret replaced by `MASK` (never the
value, never its length). `--probe` makes one harmless call per remote and tenant and
reports only the outcome class (HTTP status or error type): never a body, a URL or a key.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import httpx
import typer
from pydantic import SecretStr
from rich.markup import escape
from rich.tree import Tree

from adapter.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_FAILURE,
    console,
    err_console,
    get_ctx,
    print_json,
    run_async,
)
from adapter.errors import ConfigError, RemoteError
from adapter.intake.feed import probe_feed
from adapter.settings import (
    DEFAULT_CONFIG_PATH,
    ENV_PREFIX,
    ArchiveBackend,
    Settings,
    TenantConfig,
    load_settings_with_origins,
    origin_of,
)
from adapter.targets.http import build_client
from adapter.targets.p360 import SIF_PATH, SifPermanentError, SifTransientError
from adapter.wiring.clients import archive_client, samspill_client

__all__ = [
    "MASK",
    "SIF_PING_PATH",
    "ProbeResult",
    "ProbeStatus",
    "Remote",
    "masked_settings",
    "masked_url",
    "probe_tenant",
    "register",
]

MASK = "**********"
SIF_PING_PATH = f"{SIF_PATH}/SupportService/Ping"


class Remote(StrEnum):
    """What `--probe` calls."""

    VISMA_CONNECT = "visma-connect"  # Samspill: a Visma Connect token, then one read
    ARCHIVE = "archive"
    FEED = "feed"


class ProbeStatus(StrEnum):
    """Outcome of one probe."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class ProbeResult:
    """One probe of one tenant's remote; `detail` is an HTTP status or an error type."""

    tenant: str
    remote: Remote
    status: ProbeStatus
    detail: str


def register(app: typer.Typer) -> None:
    """Attach `config check` to `app`."""
    config_app = typer.Typer(
        name="config", help="Check the configuration and secrets.", no_args_is_help=True
    )
    config_app.command("check")(check)
    app.add_typer(config_app, name="config")


def check(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    probe: Annotated[
        bool,
        typer.Option(
            "--probe", help="Call each tenant's Samspill (token, one read), SIF Ping and feed."
        ),
    ] = False,
) -> None:
    """Validate config and secrets; print the effective config with secrets masked.

    Exit 0 when valid, 2 on a config error or a missing secret, 1 when a probe fails.
    """
    config_path = get_ctx(ctx).config_path
    source = str(config_path or DEFAULT_CONFIG_PATH)
    try:
        settings, origins = load_settings_with_origins(config_path)
    except ConfigError as exc:
        error = {"source": exc.source, "key": exc.key, "message": _message_of(exc)}
        _report_invalid(source, [error], as_json=as_json)
        raise typer.Exit(EXIT_BAD_INPUT) from None

    errors: list[dict[str, str | None]] = [
        {"source": origin_of(key, origins), "key": key, "message": message}
        for key, message in _missing_secret_errors(settings)
    ]
    if errors:
        _report_invalid(source, errors, as_json=as_json, settings=settings)
        raise typer.Exit(EXIT_BAD_INPUT)

    results = run_async(_probe_all(settings)) if probe else []
    if as_json:
        print_json(
            {
                "config_file": source,
                "valid": True,
                "errors": [],
                "settings": masked_settings(settings),
                **({"probes": [_result_json(r) for r in results]} if probe else {}),
            }
        )
    else:
        console.print(_tree(source, masked_settings(settings)))
        for result in results:
            colour = {"ok": "green", "failed": "red", "skipped": "yellow"}[result.status]
            console.print(
                f"probe {escape(result.tenant)} {result.remote}: "
                f"[{colour}]{result.status}[/] {escape(result.detail)}",
                highlight=False,
            )
        console.print("[green]configuration is valid[/]", highlight=False)
    if any(r.status is ProbeStatus.FAILED for r in results):
        raise typer.Exit(EXIT_FAILURE)


def masked_settings(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain JSON-able data, every present secret as `MASK`.

    The database URL is shown with its password (if any) as `MASK`.
    """
    masked: dict[str, Any] = _mask(settings.model_dump(mode="python"))
    masked["database_url"] = masked_url(settings.database_url)
    return masked


# Up to the last "@" before the path: a password may hold an unencoded "@".
_USERINFO_PASSWORD = re.compile(r"(?P<head>://[^/@:]*:)[^/]*@")


def masked_url(url: str) -> str:
    """`url` with the password of its user info replaced by `MASK` (the rest as written)."""
    return _USERINFO_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@", url, count=1)


def _mask(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, Mapping):
        return {str(k): _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # UUID, Path


def _missing_secret_errors(settings: Settings) -> list[tuple[str, str]]:
    # Named by the full dotted key; `check` puts the tenant's own file in front of it.
    errors = []
    for key, tenant in settings.tenants.items():
        for secret in tenant.missing_secrets():
            dotted = f"tenants.{key}.{secret}"
            var = ENV_PREFIX + dotted.upper().replace(".", "__")
            errors.append(
                (
                    dotted,
                    f"missing secret: set {secret} or {secret}_file in the tenant's file, "
                    f"or {var} or {var}_FILE",
                )
            )
    return errors


def _message_of(exc: ConfigError) -> str:
    # ConfigError's text is "source: key: message"; keep the message part for JSON.
    prefix = ": ".join(part for part in (exc.source, exc.key) if part)
    return str(exc).removeprefix(f"{prefix}: ") if prefix else str(exc)


def _report_invalid(
    source: str,
    errors: list[dict[str, str | None]],
    *,
    as_json: bool,
    settings: Settings | None = None,
) -> None:
    if as_json:
        print_json(
            {
                "config_file": source,
                "valid": False,
                "errors": errors,
                "settings": masked_settings(settings) if settings is not None else None,
            }
        )
    elif settings is not None:
        console.print(_tree(source, masked_settings(settings)))
    for error in errors:
        line = ": ".join(str(error[part]) for part in ("source", "key", "message") if error[part])
        err_console.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)


def _tree(source: str, data: Mapping[str, Any]) -> Tree:
    root = Tree(f"[bold]{escape(source)}[/]", highlight=False)
    _add_branch(root, data)
    return root


def _add_branch(node: Tree, data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        if isinstance(value, Mapping):
            _add_branch(node.add(f"[bold]{escape(key)}[/]"), value)
        else:
            node.add(f"{escape(key)} = {escape(_show(value))}")


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _result_json(result: ProbeResult) -> dict[str, str]:
    return {
        "tenant": result.tenant,
        "remote": result.remote.value,
        "status": result.status.value,
        "detail": result.detail,
    }


async def _probe_all(settings: Settings) -> list[ProbeResult]:
    results: list[ProbeResult] = []
    with _quiet_httpx():
        # the client the service builds: proxies from the environment, the CA bundle
        async with build_client(
            timeout_s=settings.http.timeout_s, ca_bundle=settings.http.ca_bundle
        ) as client:
            for tenant in settings.tenants.values():
                results.extend(await probe_tenant(client, tenant))
    return results


@contextlib.contextmanager
def _quiet_httpx() -> Iterator[None]:
    # httpx logs each request URL at INFO; a query-auth SIF URL carries the key.
    logger = logging.getLogger("httpx")
    before = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(before)


async def probe_tenant(client: httpx.AsyncClient, tenant: TenantConfig) -> list[ProbeResult]:
    """Probe one tenant's Samspill (token and one read), archive (SIF `SupportService/Ping`)
    and feed, in that order, each through the target's own `probe` (the production path:
    the same token cache, auth variant, requests and error classes as the service)."""
    probes = (
        (Remote.VISMA_CONNECT, _probe_samspill),
        (Remote.ARCHIVE, _probe_archive),
        (Remote.FEED, _probe_feed),
    )
    results = []
    for remote, probe in probes:
        try:
            status, detail = await probe(client, tenant)
        except RemoteError as exc:
            status, detail = ProbeStatus.FAILED, _failure(exc)
        except httpx.HTTPError as exc:  # the type only: messages may hold a URL with a key
            status, detail = ProbeStatus.FAILED, type(exc).__name__
        results.append(ProbeResult(tenant.key, remote, status, detail))
    return results


def _failure(exc: RemoteError) -> str:
    # The production errors name the path and status, never a key, a token or a body.
    if isinstance(exc, SifPermanentError | SifTransientError):
        return f"HTTP {exc.status}, Successful=false"
    if exc.status is not None and not 200 <= exc.status < 300:
        return f"HTTP {exc.status}"
    return str(exc)  # a transport failure, or a 2xx whose answer was unusable


async def _probe_samspill(
    client: httpx.AsyncClient, tenant: TenantConfig
) -> tuple[ProbeStatus, str]:
    if not tenant.samspill.enabled:
        return ProbeStatus.SKIPPED, "disabled"
    if tenant.samspill.client_secret is None:
        return ProbeStatus.SKIPPED, "no secret"
    status = await samspill_client(tenant, client).probe()
    return ProbeStatus.OK, f"HTTP {status}"


async def _probe_archive(
    client: httpx.AsyncClient, tenant: TenantConfig
) -> tuple[ProbeStatus, str]:
    archive = tenant.archive
    if archive.backend is ArchiveBackend.NONE or archive.base_url is None:
        return ProbeStatus.SKIPPED, "no archive"
    if archive.key is None:
        return ProbeStatus.SKIPPED, "no key"
    status = await archive_client(tenant, client).probe()
    return ProbeStatus.OK, f"HTTP {status}"


async def _probe_feed(client: httpx.AsyncClient, tenant: TenantConfig) -> tuple[ProbeStatus, str]:
    feed = tenant.feed
    if not feed.enabled or feed.url is None:
        return ProbeStatus.SKIPPED, "disabled"
    if feed.api_key is None:
        return ProbeStatus.SKIPPED, "no api key"
    status = await probe_feed(tenant, http=client)
    return ProbeStatus.OK, f"HTTP {status}"
