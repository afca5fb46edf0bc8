"""`${VAR}` and `${VAR:-default}` in config-file strings, expanded from the environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from adapter.errors import ConfigError

__all__ = ["expand_vars"]

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_vars(value: Any, environ: Mapping[str, str], *, source: str, key: str = "") -> Any:
    """`value` with every reference in its strings (at any depth) replaced.

    `${VAR:-default}` takes the default when VAR is unset or empty, as the shell does;
    `${VAR}` with VAR unset is a ConfigError naming the file, the key and the variable.
    """
    if isinstance(value, str):
        return _expand_string(value, environ, source=source, key=key)
    if isinstance(value, dict):
        return {
            k: expand_vars(v, environ, source=source, key=f"{key}.{k}" if key else str(k))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            expand_vars(v, environ, source=source, key=f"{key}[{i}]") for i, v in enumerate(value)
        ]
    return value


def _expand_string(text: str, environ: Mapping[str, str], *, source: str, key: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = environ.get(name)
        if found:
            return found
        if default is not None:
            return default
        if found is not None:  # set but empty, and no default: the empty string, as the shell
            return found
        raise ConfigError(f"environment variable {name} is not set", source=source, key=key)

    return _REFERENCE.sub(replace, text)
