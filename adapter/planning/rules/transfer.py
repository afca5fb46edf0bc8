"""The transfer of the stafettlogg to an individual plan (IP) led by the coordinator."""

from __future__ import annotations

from datetime import date, datetime

from adapter.events import IpGrantedData
from adapter.planning.clock import oslo_date
from adapter.planning.operations import OpKind
from adapter.planning.payloads import (
    CreateDocument,
    DocumentSource,
    FamilyMember,
    PersonRef,
    SummaryLine,
    SummaryMeetingLine,
    SummaryParticipantLine,
    SummarySnapshot,
    TransferPlan,
)
from adapter.planning.rules.archive import ARCHIVE_CASE_LINK, ensure_archive_case
from adapter.planning.rules.context import Ctx, Hold, Reject, no_consent_reason
from adapter.planning.rules.deadlines import share_deadline
from adapter.planning.rules.items import share_responsibility
from adapter.planning.rules.meetings import share_meeting
from adapter.planning.state import (
    CaseState,
    GoalStatus,
    MeetingStatus,
    ParticipantStatus,
    PlanStage,
    ServicePersonState,
)

__all__ = ["IP_SUFFIX", "NO_PLAN_TO_TRANSFER", "SUMMARY_FILENAME", "grant_ip"]

IP_SUFFIX = "ip"
"""The op_ref suffix of an item created anew on the IP after the transfer."""

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
    summary = _snapshot(state, ctx.at, ctx.event.occurred_at)
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
    _recreate_on_ip(ctx, after=ctx.event.occurred_at)
    if ctx.rules.archive_enabled:
        _archive_summary(ctx, summary, waits_for=transfer)


def _recreate_on_ip(ctx: Ctx, *, after: datetime) -> None:
    """What the transfer does not copy goes to the IP anew: future planned meetings, open
    responsibilities and the current follow-up deadline (samspill.md copies only goals,
    measures, participants and consents). Their op_refs carry the suffix `ip`."""
    for meeting in list(ctx.state.meetings.values()):
        if (
            meeting.link is not None
            and meeting.status is MeetingStatus.PLANNED
            and meeting.starts_at > after
        ):
            share_meeting(ctx, meeting, suffix=IP_SUFFIX)
    for item in list(ctx.state.responsibilities.values()):
        if item.link is not None and not item.done and ctx.participant_link(item.participant_id):
            share_responsibility(ctx, item, suffix=IP_SUFFIX)
    deadline = ctx.state.deadline
    if deadline is not None and deadline.link is not None and deadline.deadline >= ctx.at:
        share_deadline(ctx, deadline, suffix=IP_SUFFIX)


def _snapshot(state: CaseState, day: date, at: datetime) -> SummarySnapshot:
    """The stafettlogg as it stands when it is transferred (on `day`, at `at`): what its
    closing summary shows."""

    def shared(link: str | None) -> bool:
        return link is not None and not link.startswith("ip/")

    return SummarySnapshot(
        goals=tuple(
            SummaryLine(title=g.title, status=g.status.value, evaluation=g.evaluation)
            for g in state.goals.values()
            if shared(g.link)
        ),
        measures=tuple(
            SummaryLine(title=m.title, status=m.status_on(day), evaluation=m.evaluation)
            for m in state.measures.values()
            if shared(m.link)
        ),
        meetings_held=tuple(
            SummaryMeetingLine(kind=m.kind, date=oslo_date(m.starts_at))
            for m in sorted(state.meetings.values(), key=lambda m: m.starts_at)
            if m.status is MeetingStatus.HELD and not m.level0
        ),
        participants=tuple(
            SummaryParticipantLine(role=p.role, service=p.service)
            for p in state.participants.values()
            if p.ever_shared
        ),
        transferred_at=at,
    )


def _archive_summary(ctx: Ctx, summary: SummarySnapshot, *, waits_for: str) -> None:
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
            contact_nin=child.nin,
            summary=summary,
        ),
        link="summary:stafettlogg",
        waits_for=waits_for,
    )
    ctx.update(last_document_ref=document)
