"""The transfer of the stafettlogg to an individual plan (IP) led by the coordinator."""

from __future__ import annotations

from adapter.events import IpGrantedData
from adapter.planning.operations import OpKind
from adapter.planning.payloads import (
    CreateDocument,
    DocumentSource,
    FamilyMember,
    PersonRef,
    TransferPlan,
)
from adapter.planning.rules.archive import ARCHIVE_CASE_LINK, ensure_archive_case
from adapter.planning.rules.context import Ctx, Hold, Reject, no_consent_reason
from adapter.planning.state import GoalStatus, ParticipantStatus, PlanStage, ServicePersonState

__all__ = ["NO_PLAN_TO_TRANSFER", "SUMMARY_FILENAME", "grant_ip"]

NO_PLAN_TO_TRANSFER = "no stafettlogg to transfer yet"
SUMMARY_FILENAME = "sluttrapport-stafettlogg.pdf"


def grant_ip(ctx: Ctx, data: IpGrantedData) -> None:
    """TRANSFER_PLAN when a consent covers the coordinator's service, then the summary.

    Held (and holding every later non-consent event) while no consent covers it.
    """
    state = ctx.state
    if state.plan is PlanStage.IP:
        raise Reject("the case is already transferred to an individual plan")
    if state.plan is PlanStage.NONE:
        raise Hold(NO_PLAN_TO_TRANSFER)
    coordinator = data.coordinator
    if not ctx.covered(coordinator.service.value):
        raise Hold(no_consent_reason(coordinator.service.value), blocks=True)
    adopt: dict[str, str] = {}
    updates: dict[str, dict[str, object]] = {}

    def carry(field: str, kind: str, internal_id: str, link: str | None) -> None:
        if not state.on_current_plan(link):
            return
        adopt[f"ip/{link}"] = ctx.item_ref(kind, internal_id)
        updates.setdefault(field, {})[internal_id] = f"ip/{link}"

    for c in state.consents.values():
        if c.active_on(ctx.at):
            carry("consents", "consent", c.consent_id, c.link)
    for p in state.participants.values():
        if p.status is ParticipantStatus.ACTIVE:
            carry("participants", "participant", p.participant_id, p.link)
    for g in state.goals.values():
        if g.status is GoalStatus.ACTIVE:
            carry("goals", "goal", g.goal_id, g.link)
    for m in state.measures.values():
        if m.status_on(ctx.at) != "ended":
            carry("measures", "measure", m.measure_id, m.link)
    # the guardians are copied as the IP's family participants: link them there too
    guardians = tuple(g.model_copy(update={"link": f"ip/{g.link}"}) for g in state.guardians)
    transfer = ctx.emit(
        OpKind.TRANSFER_PLAN,
        ("plan", "ip"),
        TransferPlan(
            plan_link="plan:stafettlogg",
            coordinator=PersonRef(name=coordinator.name, nin=coordinator.nin),
            external_reference=ctx.item_ref("plan", "ip"),
            adopt=adopt,
            family=tuple(
                FamilyMember(name=g.name, nin=g.nin, role="foresatt", link=g.link)
                for g in guardians
            ),
        ),
        link="plan:ip",
    )
    for field, links in updates.items():
        items = dict(getattr(ctx.state, field))
        for internal_id, link in links.items():
            items[internal_id] = items[internal_id].model_copy(update={"link": link})
        ctx.update(**{field: items})
    ctx.update(
        plan=PlanStage.IP,
        guardians=guardians,
        transfer_held=None,
        coordinator=ServicePersonState(
            name=coordinator.name, nin=coordinator.nin, service=coordinator.service.value
        ),
    )
    if ctx.rules.archive_enabled:
        _archive_summary(ctx, waits_for=transfer)


def _archive_summary(ctx: Ctx, *, waits_for: str) -> None:
    ensure_archive_case(ctx)
    child = ctx.state.child
    assert child is not None
    document = ctx.emit(
        OpKind.CREATE_DOCUMENT,
        ("summary", "stafettlogg"),
        CreateDocument(
            case_link=ARCHIVE_CASE_LINK,
            title="Sluttrapport – stafettlogg",
            unofficial_title=f"Sluttrapport – stafettlogg – {child.name}",
            category=ctx.rules.summary_category,
            document_date=ctx.event.occurred_at,
            source=DocumentSource(filename=SUMMARY_FILENAME, media_type="application/pdf"),
            render="closing-summary",
        ),
        link="summary:stafettlogg",
        waits_for=waits_for,
    )
    ctx.update(last_document_ref=document)
