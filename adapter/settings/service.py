"""The process-wide settings: store, dispatcher, scheduler, HTTP, logging, and the tenants.

`Settings` is a pydantic-settings class so that its shape (prefix `STAFETT_`, nested
keys joined by `__`) drives the environment source, but it is only ever built by
`adapter.settings.load_settings`, which layers files and environment itself; the class
reads nothing on its own.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from adapter.settings.tenant import TenantConfig

__all__ = [
    "DispatchSettings",
    "HttpSettings",
    "LogFormat",
    "LogSettings",
    "SchedulerSettings",
    "Settings",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DispatchSettings(_Frozen):
    """How the dispatcher claims and retries operations."""

    concurrency: PositiveInt = 16
    lease_seconds: PositiveInt = 60
    heartbeat_seconds: PositiveFloat = 15.0
    """How often the leases of running operations are extended (see `_lease_outlasts_beats`)."""
    in_call_attempts: PositiveInt = 3
    backoff_base_s: PositiveFloat = 2.0
    backoff_max_s: PositiveFloat = 900.0
    retry_after_cap_s: PositiveFloat = 900.0
    batch_size: PositiveInt = 200

    @model_validator(mode="after")
    def _max_not_below_base(self) -> Self:
        if self.backoff_max_s < self.backoff_base_s:
            raise ValueError("backoff_max_s must not be below backoff_base_s")
        return self

    @model_validator(mode="after")
    def _lease_outlasts_beats(self) -> Self:
        # A lease must survive two missed heartbeats (a slow store write, a busy loop), or
        # another replica may take over an operation that is still running.
        if self.lease_seconds < 3 * self.heartbeat_seconds:
            raise ValueError(
                f"lease_seconds ({self.lease_seconds}) must be at least 3 x heartbeat_seconds "
                f"({self.heartbeat_seconds})"
            )
        return self


class SchedulerSettings(_Frozen):
    """Intervals (seconds) of the scheduler's ticks."""

    poll_interval_s: PositiveInt = 30
    plan_interval_s: PositiveInt = 5
    dispatch_interval_s: PositiveInt = 2
    reconcile_interval_s: PositiveInt = 3600
    deadlines_interval_s: PositiveInt = 3600
    expiry_interval_s: PositiveInt = 3600
    retention_interval_s: PositiveInt = 86400
    misfire_grace_s: PositiveInt = 30


class HttpSettings(_Frozen):
    """The adapter's own HTTP port and its outbound HTTP (proxies come from the usual env vars)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    max_body_bytes: PositiveInt = 1_048_576
    # a request's headers, and then its whole body, must arrive within this (else 408)
    body_timeout_s: PositiveFloat = 30.0
    timeout_s: PositiveFloat = 30.0
    # the whole of one remote call or document fetch (connect and every read), contract
    # "Hardening": a server that drips bytes under `timeout_s` still ends here
    call_deadline_s: PositiveFloat = 60.0
    ca_bundle: Path | None = None
    # The operators' token for `GET /status` and `/status.json`; unset: the page is off (404).
    status_token: SecretStr | None = None

    @field_validator("status_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        # compose passes an unset variable as "": the page is off, not misconfigured
        return None if value == "" else value

    @field_validator("status_token")
    @classmethod
    def _token_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("status_token must be at least 16 characters")
        return value

    @field_validator("ca_bundle")
    @classmethod
    def _bundle_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"CA bundle {str(value)!r} is not a file")
        return value


class LogFormat(StrEnum):
    """JSON for the service, readable text on a terminal."""

    JSON = "json"
    CONSOLE = "console"


class LogSettings(_Frozen):
    """Log output."""

    format: LogFormat = LogFormat.CONSOLE
    level: str = "INFO"

    @field_validator("level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level


class Settings(BaseSettings):
    """Everything stafett is configured with. Build it with `load_settings`."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        env_prefix="STAFETT_",
        env_nested_delimiter="__",
        case_sensitive=False,
    )

    database_url: str = "sqlite+aiosqlite:///var/stafett.db"
    dispatch: DispatchSettings = DispatchSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    http: HttpSettings = HttpSettings()
    log: LogSettings = LogSettings()
    tenants: dict[str, TenantConfig] = Field(min_length=1)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings layers files and env (with provenance for error messages) itself.
        return (init_settings,)

    @field_validator("tenants", mode="before")
    @classmethod
    def _key_from_table(cls, value: Any) -> Any:
        # A tenant's key is its table name (or file stem); a `key` in the table must agree.
        if not isinstance(value, dict):
            return value
        out: dict[Any, Any] = {}
        for key, tenant in value.items():
            if isinstance(tenant, dict):
                if tenant.get("key", key) != key:
                    raise ValueError(f"tenant {key!r} declares a different key")
                tenant = {**tenant, "key": key}
            out[key] = tenant
        return out

    def tenant(self, key: str) -> TenantConfig:
        """The tenant with this key; KeyError naming the known keys when there is none."""
        try:
            return self.tenants[key]
        except KeyError:
            known = ", ".join(sorted(self.tenants))
            raise KeyError(f"unknown tenant {key!r}; known: {known}") from None
