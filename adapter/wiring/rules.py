"""Planning rules of a tenant, from its settings (the planner never reads settings itself)."""

from __future__ import annotations

from adapter.planning import PlanningRules
from adapter.settings import TenantConfig
from adapter.settings.tenant import ArchiveBackend

__all__ = ["planning_rules"]


def planning_rules(tenant: TenantConfig) -> PlanningRules:
    """The pure planner's view of one tenant's configuration."""
    return PlanningRules(
        tenant=tenant.key,
        organization_number=tenant.organization_number,
        profile=tenant.profile_obj,
        plan_step=tenant.plan_step,
        follow_up_days=tenant.follow_up_days,
        referral_follow_up_days=tenant.referral_follow_up_days,
        self_consent_age=tenant.self_consent_age,
        access_areas=tuple(str(a) for a in tenant.samspill.access_areas),
        archive_enabled=tenant.archive.backend is ArchiveBackend.P360,
        archive_external_system=tenant.archive.external_system,
        minutes_category=tenant.archive.minutes_category,
        summary_category=tenant.archive.summary_category,
    )
