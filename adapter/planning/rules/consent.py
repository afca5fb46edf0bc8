"""Consent: granting (with the self-consent age), sharing, withdrawal and expiry."""

from __future__ import annotations

from datetime import date

from adapter.events import ConsentGrantedData, Relation
from adapter.nin import birth_date
from adapter.planning.clock import age_on, oslo_date
from adapter.planning.operations import OpKind
from adapter.planning.payloads import AddConsent, GivenBy, RemoveParticipant, UpdateConsent
from adapter.planning.rules.context import Ctx, Reject
from adapter.planning.state import (
    CaseState,
    ConsentState,
    ConsentStatus,
    GivenByState,
    ParticipantStatus,
)

__all__ = ["end_consent", "grant_consent", "lapse_consents", "lapsed_consents", "share_consent"]


def grant_consent(ctx: Ctx, data: ConsentGrantedData) -> None:
    """Record a consent; share it at once when a plan exists and it is active today.

    A consent id is granted once: a changed or renewed consent is a new consent (with a new
    id), so the remote record of the old one is never silently left as it was.
    """
    if data.consent_id in ctx.state.consents:
        raise Reject(
            f"consent '{data.consent_id}' was granted before; "
            "a new or changed consent needs a new consent_id"
        )
    if any(g.relation is Relation.BARNET for g in data.given_by):
        child = ctx.state.child
        assert child is not None and child.nin is not None  # opened cases have a child
        age = age_on(birth_date(child.nin), oslo_date(ctx.event.occurred_at))
        if age < ctx.rules.self_consent_age:
            raise Reject(
                f"consent given by the child counts only from age {ctx.rules.self_consent_age}"
            )
    consent = ConsentState(
        consent_id=data.consent_id,
        given_by=tuple(
            GivenByState(name=g.name, nin=g.nin, relation=g.relation.value) for g in data.given_by
        ),
        services=tuple(s.value for s in data.services),
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        document_ref=data.document_ref,
    )
    ctx.put("consents", consent.consent_id, consent)
    if ctx.can_share and consent.active_on(ctx.at):
        share_consent(ctx, consent)


def share_consent(ctx: Ctx, consent: ConsentState) -> None:
    """ADD_CONSENT on the current plan."""
    link = ctx.item_link("consent", consent.consent_id)
    ctx.emit(
        OpKind.ADD_CONSENT,
        ("consent", consent.consent_id),
        AddConsent(
            plan_link=ctx.plan_link,
            given_by=tuple(
                GivenBy(name=g.name, nin=g.nin, relation=g.relation) for g in consent.given_by
            ),
            services=consent.services,
            valid_from=consent.valid_from,
            valid_to=consent.valid_to,
            document_reference=consent.document_ref,
            external_reference=ctx.item_ref("consent", consent.consent_id),
        ),
        link=link,
    )
    ctx.put("consents", consent.consent_id, consent.model_copy(update={"link": link}))


def end_consent(ctx: Ctx, consent_id: str, status: ConsentStatus) -> None:
    """Withdrawal or expiry: update the shared consent, remove solely covered participants."""
    consent = ctx.state.consents.get(consent_id)
    if consent is None:
        raise Reject(f"unknown consent '{consent_id}'")
    if consent.status is not ConsentStatus.GRANTED:
        return
    ctx.put("consents", consent_id, consent.model_copy(update={"status": status}))
    if not ctx.can_share:
        return
    if ctx.state.on_current_plan(consent.link):
        assert consent.link is not None
        ctx.emit(
            OpKind.UPDATE_CONSENT,
            ("consent", consent_id),
            UpdateConsent(
                plan_link=ctx.plan_link,
                consent_link=consent.link,
                status="withdrawn" if status is ConsentStatus.WITHDRAWN else "expired",
            ),
            suffix=ctx.suffix,
        )
    for participant in list(ctx.state.participants.values()):
        if (
            participant.status is ParticipantStatus.ACTIVE
            and ctx.state.on_current_plan(participant.link)
            and not ctx.covered(participant.service)
            and not _is_lead(ctx, participant.nin)
        ):
            assert participant.link is not None
            ctx.emit(
                OpKind.REMOVE_PARTICIPANT,
                ("participant", participant.participant_id),
                RemoveParticipant(plan_link=ctx.plan_link, participant_link=participant.link),
                suffix=ctx.suffix,
            )
            ctx.put(
                "participants",
                participant.participant_id,
                participant.model_copy(
                    update={"status": ParticipantStatus.REMOVED_BY_CONSENT, "link": None}
                ),
            )


def lapsed_consents(state: CaseState, day: date) -> list[ConsentState]:
    """The consents still granted in `state` whose (inclusive) `valid_to` is before `day`."""
    return [
        c
        for c in state.consents.values()
        if c.status is ConsentStatus.GRANTED and c.valid_to is not None and c.valid_to < day
    ]


def lapse_consents(ctx: Ctx) -> None:
    """Consents whose `valid_to` lies before the event's date end as expired, here and now.

    Judged at each event's date, so replay gives the same answer. When no event comes, the
    service's expiry job stores an internal `consent.expired` event with the same effect.
    """
    for consent in lapsed_consents(ctx.state, ctx.at):
        end_consent(ctx, consent.consent_id, ConsentStatus.EXPIRED)


def _is_lead(ctx: Ctx, nin: str | None) -> bool:
    leads = (ctx.state.stafettholder, ctx.state.coordinator)
    return nin is not None and any(lead is not None and lead.nin == nin for lead in leads)
