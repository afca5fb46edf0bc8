"""The tenant settings the planner needs, built by the service from `TenantConfig`."""

from __future__ import annotations

from dataclasses import dataclass

from adapter.profiles import Profile
from adapter.settings.tenant import DEFAULT_ACCESS_AREAS

__all__ = ["PlanningRules"]


@dataclass(frozen=True)
class PlanningRules:
    """One tenant's planning settings; the planner never reads settings itself."""

    tenant: str
    organization_number: str
    profile: Profile
    plan_step: tuple[int, int]
    follow_up_days: int = 28
    referral_follow_up_days: int = 42
    self_consent_age: int = 15
    access_areas: tuple[str, ...] = DEFAULT_ACCESS_AREAS
    archive_enabled: bool = True
    archive_external_system: str = "BTI"
    minutes_category: str = "112"
    summary_category: str = "113"
