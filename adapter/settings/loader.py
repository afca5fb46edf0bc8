"""`load_settings`: the one reader of config files and `STAFETT_*` environment variables.

Layers, later beating earlier: model defaults, the main TOML file (with its inline
`[tenants.<key>]` tables), one file per tenant in `tenants_dir`, then the environment.
Each secret may be given as `<name>_file` (TOML) or `..._FILE` (env) instead. Every
value remembers where it came from, so a ConfigError names the file (or the variable)
and the dotted key — never the value.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import EnvSettingsSource
from pydantic_settings.exceptions import SettingsError
from pydantic_settings.sources.utils import parse_env_vars

from adapter.errors import ConfigError
from adapter.settings._expand import expand_vars
from adapter.settings.service import Settings
from adapter.settings.tenant import SECRET_KEYS

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_CONFIG_PATH",
    "ENV_PREFIX",
    "Origins",
    "load_settings",
    "load_settings_with_origins",
    "origin_of",
]

# stdlib logging: the structlog set-up in adapter.logs reads these settings first
_log = logging.getLogger(__name__)

DEFAULT_CONFIG_PATH = Path("config/stafett.toml")
CONFIG_ENV_VAR = "STAFETT_CONFIG"
ENV_PREFIX = "STAFETT_"

Origins = dict[str, str]
"""Dotted key (or key prefix) -> where it was set: "path/to/file.toml" or "env STAFETT_..."."""


def load_settings(
    config_path: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read the settings: `config_path`, else `$STAFETT_CONFIG`, else `config/stafett.toml`.

    `environ` defaults to `os.environ`; it feeds both `${VAR}` expansion and the
    `STAFETT_*` overrides. Raises ConfigError on any problem.
    """
    return load_settings_with_origins(config_path, environ=environ)[0]


def load_settings_with_origins(
    config_path: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> tuple[Settings, Origins]:
    """`load_settings`, and where each key came from (for `origin_of`)."""
    env: Mapping[str, str] = os.environ if environ is None else environ
    path = config_path or Path(env.get(CONFIG_ENV_VAR) or DEFAULT_CONFIG_PATH)
    origins: Origins = {"": str(path)}

    data = _read_toml(path, env)
    tenants_dir = data.pop("tenants_dir", None)
    tenants = data.setdefault("tenants", {})
    if not isinstance(tenants, dict):
        raise ConfigError("must be a table of tenants", source=str(path), key="tenants")
    if tenants_dir is not None:
        _add_tenant_files(tenants, path, tenants_dir, env, origins)
    for key, tenant in tenants.items():
        source = origins.get(f"tenants.{key}", str(path))
        _resolve_secret_files(tenant, f"tenants.{key}", Path(source).parent, origins, source)

    env_data = _read_env(env, origins)
    merged = _deep_merge(data, env_data)
    try:
        settings = Settings(**merged)
    except ValidationError as exc:
        raise _config_error(exc, origins) from None
    for key, tenant in settings.tenants.items():
        for setting in tenant.feed.deprecated:
            _log.warning("deprecated setting in tenant %s: %s", key, setting)
    return settings, origins


def _read_toml(path: Path, env: Mapping[str, str]) -> dict[str, Any]:
    source = str(path)
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError("config file not found", source=source) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror}", source=source) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=source) from None
    expanded: dict[str, Any] = expand_vars(raw, env, source=source)
    return expanded


def _add_tenant_files(
    tenants: dict[str, Any],
    main: Path,
    tenants_dir: object,
    env: Mapping[str, str],
    origins: Origins,
) -> None:
    if not isinstance(tenants_dir, str):
        raise ConfigError("must be a path (string)", source=str(main), key="tenants_dir")
    directory = main.parent / tenants_dir
    if not directory.is_dir():
        raise ConfigError(f"{directory} is not a directory", source=str(main), key="tenants_dir")
    for file in sorted(directory.glob("*.toml")):
        key = file.stem
        if key in tenants:
            raise ConfigError(
                f"tenant defined twice (inline in {main} and as a file)",
                source=str(file),
                key=f"tenants.{key}",
            )
        tenants[key] = _read_toml(file, env)
        origins[f"tenants.{key}"] = str(file)


def _resolve_secret_files(
    tenant: object, prefix: str, base_dir: Path, origins: Origins, default_source: str
) -> None:
    """Replace each `<secret>_file` of one tenant's layer by the file's stripped content."""
    if not isinstance(tenant, dict):
        return
    for secret_key in SECRET_KEYS:
        *parents, name = secret_key.split(".")
        node: Any = tenant
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or f"{name}_file" not in node:
            continue
        file_key = f"{prefix}.{secret_key}_file"
        source = origins.get(file_key, default_source)
        if name in node:
            raise ConfigError(f"give {name} or {name}_file, not both", source=source, key=file_key)
        file = Path(str(node.pop(f"{name}_file")))
        file = file if file.is_absolute() else base_dir / file
        try:
            content = file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ConfigError(
                f"cannot read secret file {file}: {reason}", source=source, key=file_key
            ) from None
        if not content:
            raise ConfigError(f"secret file {file} is empty", source=source, key=file_key)
        node[name] = content


class _EnvSource(EnvSettingsSource):
    """pydantic-settings' env source over a given mapping instead of `os.environ`."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(Settings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # The documented override point (DotEnvSettingsSource uses it the same way).
        return parse_env_vars(
            self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


def _read_env(env: Mapping[str, str], origins: Origins) -> dict[str, Any]:
    for name in env:
        if name.upper().startswith(ENV_PREFIX):
            dotted = name[len(ENV_PREFIX) :].lower().replace("__", ".")
            origins[dotted] = f"env {name}"
            if dotted.endswith("_file"):  # a secret given as a file: errors on it point here too
                origins[dotted.removesuffix("_file")] = f"env {name}"
    try:
        data = _EnvSource(env)()
    except SettingsError as exc:
        raise ConfigError(f"{exc} (complex values are JSON)", source=f"env {ENV_PREFIX}*") from None
    tenants = data.get("tenants")
    if isinstance(tenants, dict):
        for key, tenant in tenants.items():
            _resolve_secret_files(
                tenant, f"tenants.{key}", Path.cwd(), origins, f"env {ENV_PREFIX}TENANTS__*"
            )
    return data


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def origin_of(key: str, origins: Origins) -> str:
    """Where the dotted `key` was set, or would be: the most specific known prefix's source.

    A key that is set nowhere (a missing secret) belongs to the file of its tenant.
    """
    candidates = [k for k in origins if not k or key == k or key.startswith(f"{k}.")]
    return origins[max(candidates, key=len)]


def _config_error(exc: ValidationError, origins: Origins) -> ConfigError:
    # Only `loc` and `msg` are used: the input (which may be a secret) never reaches the message.
    problems = exc.errors(include_url=False, include_input=False, include_context=False)
    first = problems[0]
    key = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if key == "tenants" and first["type"] in {"missing", "too_short"}:
        message = "no tenants: set tenants_dir or add [tenants.<key>] tables"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more)"
    return ConfigError(message, source=origin_of(key, origins), key=key or None)
