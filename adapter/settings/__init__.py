"""Settings: the only reader of `config/` and of `STAFETT_*` environment variables.

`load_settings()` returns a frozen `Settings`; every command and the service take it
from there. See `loader.py` for the layering and `tenant.py` for one municipality.
"""

from __future__ import annotations

from adapter.settings.loader import (
    CONFIG_ENV_VAR,
    DEFAULT_CONFIG_PATH,
    ENV_PREFIX,
    Origins,
    load_settings,
    load_settings_with_origins,
    origin_of,
)
from adapter.settings.service import (
    DispatchSettings,
    HttpSettings,
    LogFormat,
    LogSettings,
    SchedulerSettings,
    Settings,
)
from adapter.settings.tenant import (
    DEFAULT_ACCESS_AREAS,
    SECRET_KEYS,
    AccessArea,
    ArchiveAuth,
    ArchiveBackend,
    ArchiveConfig,
    FeedConfig,
    SamspillConfig,
    TenantConfig,
)

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_ACCESS_AREAS",
    "DEFAULT_CONFIG_PATH",
    "ENV_PREFIX",
    "SECRET_KEYS",
    "AccessArea",
    "ArchiveAuth",
    "ArchiveBackend",
    "ArchiveConfig",
    "DispatchSettings",
    "FeedConfig",
    "HttpSettings",
    "LogFormat",
    "LogSettings",
    "Origins",
    "SamspillConfig",
    "SchedulerSettings",
    "Settings",
    "TenantConfig",
    "load_settings",
    "load_settings_with_origins",
    "origin_of",
]
