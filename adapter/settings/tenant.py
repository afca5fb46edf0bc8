"""One tenant (municipality): its profile, deadlines, and how to reach its three remotes.

Secrets are optional when the file is read, so that commands which never call a remote
(`ingest`, `status`) work without them; `TenantConfig.missing_secrets` says what an
enabled remote still needs, and `stafett config check` reports it.
"""

from __future__ import annotations

import re
import uuid
from enum import StrEnum
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveInt,
    SecretStr,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from stdnum.no import orgnr

from adapter.profiles import PROFILES, Profile, get_profile

__all__ = [
    "DEFAULT_ACCESS_AREAS",
    "SECRET_KEYS",
    "AccessArea",
    "ArchiveAuth",
    "ArchiveBackend",
    "ArchiveConfig",
    "FeedConfig",
    "HttpUrlStr",
    "OptionalSecret",
    "SamspillConfig",
    "TenantConfig",
]

# Dotted keys, relative to a tenant, of every secret a tenant can hold.
SECRET_KEYS: tuple[str, ...] = (
    "samspill.client_secret",
    "archive.key",
    "feed.api_key",
    "push_token",
)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _check_http_url(value: str) -> str:
    # The value is not echoed: a URL may carry credentials.
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("must be an absolute http(s) URL")
    return value.rstrip("/")


def _empty_is_none(value: Any) -> Any:
    # An empty variable (`FOO=`) means "not given", never "the empty secret".
    if isinstance(value, str) and not value.strip():
        return None
    return value


HttpUrlStr = Annotated[str, AfterValidator(_check_http_url)]
"""An absolute http(s) URL kept as a string, without a trailing slash."""

OptionalSecret = Annotated[SecretStr | None, BeforeValidator(_empty_is_none)]
"""A secret that may be absent at load time; empty counts as absent."""


class AccessArea(StrEnum):
    """What a participant of a Samspill plan may see (samspill.md)."""

    GOALS_AND_MEASURES = "mal-og-tiltak"
    CALENDAR = "kalender"
    LOG = "logg"
    DOCUMENTS = "dokumenter"
    MESSAGES = "meldinger"


DEFAULT_ACCESS_AREAS: tuple[str, ...] = tuple(area.value for area in AccessArea)
"""Every access area: what a service participant sees unless the tenant narrows it (the
project's one definition; the planner and the Samspill client import it)."""


class ArchiveBackend(StrEnum):
    """Where minutes and summaries are archived."""

    P360 = "p360"
    NONE = "none"


class ArchiveAuth(StrEnum):
    """The three ways a SIF installation takes its key (p360-sif.md)."""

    QUERY = "query"  # ?authkey=KEY
    AUTHORIZATION = "authorization"  # Authorization: authkey KEY (+ optional clientid header)
    HEADER = "header"  # AuthKey: KEY


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SamspillConfig(_Frozen):
    """Visma Connect client credentials and the Flyt Samspill API of one tenant."""

    token_url: HttpUrlStr
    base_url: HttpUrlStr
    client_id: Annotated[str, StringConstraints(min_length=1)]
    client_secret: OptionalSecret = None
    tenant_id: uuid.UUID
    scope: str = "vfsapi:samspill"
    access_areas: tuple[AccessArea, ...] = Field(default=tuple(AccessArea), min_length=1)
    enabled: bool = True


class ArchiveConfig(_Frozen):
    """The tenant's archive: Public 360 over SIF, or none."""

    backend: ArchiveBackend = ArchiveBackend.P360
    base_url: HttpUrlStr | None = None
    auth: ArchiveAuth = ArchiveAuth.QUERY
    key: OptionalSecret = None
    client_id: str | None = None
    external_system: str = "BTI"
    access_code: str = "13"
    paragraph: str = "Offl. § 13 jf. fvl. § 13 (1) nr.1"
    minutes_category: str = "112"
    summary_category: str = "113"
    responsible_enterprise_number: str | None = None
    max_document_bytes: PositiveInt = 25_000_000
    permanent_error_patterns: tuple[str, ...] = ("^Validation:",)

    @field_validator("permanent_error_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for index, pattern in enumerate(patterns):
            try:
                re.compile(pattern)
            except re.error as exc:
                msg = f"pattern {index} is not a valid regular expression: {exc.msg}"
                raise ValueError(msg) from None
        return patterns

    @model_validator(mode="after")
    def _p360_needs_base_url(self) -> Self:
        if self.backend is ArchiveBackend.P360 and self.base_url is None:
            raise ValueError("base_url is required when backend is 'p360'")
        return self

    def is_permanent_error(self, message: str) -> bool:
        """True when a SIF `ErrorMessage` matches one of the tenant's permanent patterns."""
        return any(re.search(pattern, message) for pattern in self.permanent_error_patterns)


def _origin(value: str) -> str:
    """``scheme://host:port`` (port written out) of a configured origin; no path, no
    credentials."""
    parts = urlsplit(value.strip())
    try:
        port = parts.port
    except ValueError:
        raise ValueError("an origin's port must be a number") from None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError("an origin is scheme://host[:port] with scheme http or https")
    if parts.username is not None or parts.password is not None:
        raise ValueError("an origin carries no credentials")
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise ValueError("an origin has no path, query or fragment")
    return f"{parts.scheme}://{parts.hostname.lower()}:{port or _DEFAULT_PORTS[parts.scheme]}"


def _legacy_host(value: str) -> tuple[str, ...]:
    """A `document_hosts` entry (``host`` or ``host:port``) as origins: both schemes, on
    the port it names or on each scheme's default port."""
    host, _, port = value.strip().lower().partition(":")
    if not host or (port and not port.isdigit()):
        raise ValueError(f"document_hosts entry {value!r} is not host or host:port")
    if port:
        return (f"http://{host}:{port}", f"https://{host}:{port}")
    return (f"http://{host}:80", f"https://{host}:443")


class FeedConfig(_Frozen):
    """The municipality's internal event feed and the origins documents may come from.

    `document_origins` (scheme, host and port) is the allowlist of document fetches;
    `document_hosts`, its predecessor, is read as origins on the default ports for one
    release (`deprecated` names it, and `config check` and the service warn).
    """

    enabled: bool = True
    url: HttpUrlStr | None = None
    api_key: OptionalSecret = None
    document_origins: tuple[Annotated[str, AfterValidator(_origin)], ...] = ()
    document_hosts: tuple[str, ...] = ()
    page_size: int = Field(default=100, ge=1, le=500)

    @model_validator(mode="after")
    def _enabled_needs_url(self) -> Self:
        if self.enabled and self.url is None:
            raise ValueError("url is required when the feed is enabled")
        return self

    @model_validator(mode="before")
    @classmethod
    def _hosts_as_origins(cls, data: Any) -> Any:
        hosts = data.get("document_hosts") if isinstance(data, dict) else None
        if not hosts or isinstance(hosts, str):
            return data
        legacy = [o for host in hosts if isinstance(host, str) for o in _legacy_host(host)]
        return {**data, "document_origins": [*data.get("document_origins", ()), *legacy]}

    @property
    def deprecated(self) -> tuple[str, ...]:
        """Settings of this feed that still work but go away in the next release."""
        if not self.document_hosts:
            return ()
        return ("feed.document_hosts (read as origins on the default ports; use document_origins)",)


def _org_number(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return value
    if not orgnr.is_valid(value):
        raise ValueError("not a valid organisation number (9 digits, mod-11 check digit)")
    return orgnr.compact(value)


class TenantConfig(_Frozen):
    """Everything stafett knows about one municipality."""

    key: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+$")]
    name: Annotated[str, StringConstraints(min_length=1)]
    organization_number: Annotated[str, BeforeValidator(_org_number)]
    profile: str
    create_plan_at: tuple[int, int] | None = None
    follow_up_days: PositiveInt = 28
    referral_follow_up_days: PositiveInt = 42
    self_consent_age: int = Field(default=15, ge=12, le=18)
    accept_synthetic_nin: bool = False
    retention_days: PositiveInt = 365
    # rejected and held events are cut to their ids this long after they arrived
    rejected_retention_days: PositiveInt = 30
    samspill: SamspillConfig
    archive: ArchiveConfig
    feed: FeedConfig
    push_token: OptionalSecret = None

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        if value not in PROFILES:
            raise ValueError(f"unknown profile {value!r}; known: {', '.join(sorted(PROFILES))}")
        return value

    @field_validator("create_plan_at")
    @classmethod
    def _step_of_profile(
        cls, value: tuple[int, int] | None, info: ValidationInfo
    ) -> tuple[int, int] | None:
        profile = info.data.get("profile")
        if value is None or profile is None:  # profile failed on its own: reported there
            return value
        if not get_profile(profile).has_step(*value):
            raise ValueError(f"{list(value)} is not a step of profile {profile!r}")
        return value

    @property
    def profile_obj(self) -> Profile:
        """The tenant's BTI profile."""
        return get_profile(self.profile)

    @property
    def plan_step(self) -> tuple[int, int]:
        """(level, step) at which the stafettlogg is created: the tenant's, else the profile's."""
        return self.create_plan_at or self.profile_obj.create_plan_at

    def missing_secrets(self) -> list[str]:
        """Dotted keys (from the tenant) of secrets that an enabled remote needs but lacks.

        `push_token` is never listed: without it the push door refuses this tenant, which
        is how a tenant that does not push is configured.
        """
        needed = {
            "samspill.client_secret": self.samspill.enabled,
            "archive.key": self.archive.backend is ArchiveBackend.P360,
            "feed.api_key": self.feed.enabled,
        }
        present = {
            "samspill.client_secret": self.samspill.client_secret,
            "archive.key": self.archive.key,
            "feed.api_key": self.feed.api_key,
        }
        return [key for key, wanted in needed.items() if wanted and present[key] is None]
