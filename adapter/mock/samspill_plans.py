"""The Samspill plan book: plans per tenant, their content, and the API's rules.

Every rule answers with a `ProblemError`: 404 for an unknown plan (or another tenant's),
409 `plan-closed` / `consent-required` / `already-transferred`, 422 with the fields.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from adapter.mock.problems import FieldError, ProblemError
from adapter.mock.samspill_models import (
    AFFILIATIONS,
    FAMILY_ROLES,
    PLAN_TYPES,
    ROLES,
    CalendarOut,
    CloseReason,
    ConsentOut,
    ConsentStatus,
    GoalOut,
    GoalStatus,
    LogOut,
    MeasureOut,
    MeasureStatus,
    ParticipantOut,
    Person,
    PersonOut,
    PlanCreate,
    PlanOut,
    PlanStatus,
    ResponsibilityOut,
)
from adapter.mock.state import TokenGrant

__all__ = ["COLLECTIONS", "SamspillBook", "StoredPlan"]

# collection name -> the model of its items
COLLECTIONS: dict[str, type[BaseModel]] = {
    "participants": ParticipantOut,
    "consents": ConsentOut,
    "goals": GoalOut,
    "measures": MeasureOut,
    "responsibilities": ResponsibilityOut,
    "calendar": CalendarOut,
    "log": LogOut,
}

IP_PLAN_TYPE = "individuell-plan"
STAFETTLOGG = "stafettlogg"


@dataclass
class StoredPlan:
    """One plan and its content; items keep their insertion order."""

    tenant_id: str
    plan_id: str
    plan_type_id: str
    organization_number: str
    external_reference: str
    main_person: PersonOut
    plan_lead: PersonOut
    affiliation_id: str | None = None
    status: PlanStatus = PlanStatus.ACTIVE
    closed_reason: CloseReason | None = None
    transferred_to: str | None = None
    transferred_from: str | None = None
    items: dict[str, dict[str, BaseModel]] = field(
        default_factory=lambda: {name: {} for name in COLLECTIONS}
    )

    def to_out(self) -> PlanOut:
        """The plan as `GET /plans/{id}` shows it."""
        return PlanOut.model_validate(
            {
                "planId": self.plan_id,
                "planTypeId": self.plan_type_id,
                "status": self.status,
                "closedReason": self.closed_reason,
                "transferredToPlanId": self.transferred_to,
                "transferredFromPlanId": self.transferred_from,
                "organizationNumber": self.organization_number,
                "affiliationId": self.affiliation_id,
                "externalReference": self.external_reference,
                "mainPerson": self.main_person,
                "planLead": self.plan_lead,
                **{name: list(items.values()) for name, items in self.items.items()},
            }
        )

    @classmethod
    def from_out(cls, tenant_id: str, out: PlanOut) -> StoredPlan:
        """Rebuild a stored plan from its shown form (for drift edits)."""
        plan = cls(
            tenant_id=tenant_id,
            plan_id=out.planId,
            plan_type_id=out.planTypeId,
            organization_number=out.organizationNumber,
            external_reference=out.externalReference,
            main_person=out.mainPerson,
            plan_lead=out.planLead,
            affiliation_id=out.affiliationId,
            status=out.status,
            closed_reason=out.closedReason,
            transferred_to=out.transferredToPlanId,
            transferred_from=out.transferredFromPlanId,
        )
        for name in COLLECTIONS:
            items: Sequence[Any] = getattr(out, name)
            plan.items[name] = {item.id: item for item in items}
        return plan

    def active_consent_covers(self, affiliation_id: str) -> bool:
        """Whether an active consent on the plan names `affiliation_id`."""
        return any(
            isinstance(c, ConsentOut)
            and c.status is ConsentStatus.ACTIVE
            and affiliation_id in c.affiliationIds
            for c in self.items["consents"].values()
        )


def _unprocessable(errors: Iterable[FieldError], type_: str = "validation-error") -> ProblemError:
    return ProblemError(
        422, type_, "The request does not satisfy the API's rules.", errors=list(errors)
    )


def _carried_into_ip(item: BaseModel) -> bool:
    """The transfer's copy rule for one item of a copied collection."""
    if isinstance(item, ConsentOut):
        return item.status is ConsentStatus.ACTIVE
    if isinstance(item, GoalOut):
        return item.status is GoalStatus.ACTIVE
    if isinstance(item, MeasureOut):
        return item.status is not MeasureStatus.ENDED
    return True


def _person(p: Person) -> PersonOut:
    return PersonOut(name=p.name, nin=p.nin)


class SamspillBook:
    """All plans of the mock, with the rules of the (assumed) plan-content API."""

    def __init__(self, seed: int = 0) -> None:
        self._seed = seed
        self._rng = random.Random(seed)  # noqa: S311 - ids, not secrets
        self.plans: dict[str, StoredPlan] = {}
        # samspill.md "Create without an id": creates answer 202 {"status": "accepted"}
        self.ack_only = False

    def reset(self) -> None:
        """Forget every plan (and the ack-only mode); ids start again from the seed."""
        self._rng = random.Random(self._seed)  # noqa: S311 - ids, not secrets
        self.plans.clear()
        self.ack_only = False

    def new_id(self) -> str:
        """A fresh UUID, deterministic for a given seed."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    # --- finding --------------------------------------------------------------------

    def get(self, plan_id: str, grant: TokenGrant) -> StoredPlan:
        """The plan if it belongs to the grant's tenant; 404 otherwise."""
        plan = self.plans.get(plan_id)
        if plan is None or plan.tenant_id != grant.tenant_id:
            raise ProblemError(404, "plan-not-found", "No such plan.")
        return plan

    def writable(self, plan_id: str, grant: TokenGrant) -> StoredPlan:
        """The plan, which must be open: 409 `plan-closed` otherwise."""
        plan = self.get(plan_id, grant)
        if plan.status is PlanStatus.CLOSED:
            raise ProblemError(
                409,
                "plan-closed",
                "The plan is closed.",
                extra={"closedReason": plan.closed_reason, "planId": plan.plan_id},
            )
        return plan

    def find(self, grant: TokenGrant, external_reference: str | None) -> list[StoredPlan]:
        """The tenant's plans, optionally only those with `external_reference`."""
        return [
            p
            for p in self.plans.values()
            if p.tenant_id == grant.tenant_id
            and (external_reference is None or p.external_reference == external_reference)
        ]

    # --- rules ----------------------------------------------------------------------

    @staticmethod
    def participant_errors(
        role_id: str, affiliation_id: str | None, prefix: str = ""
    ) -> list[FieldError]:
        """Unknown role or affiliation; family with an affiliation; others without one."""
        errors: list[FieldError] = []
        if role_id not in ROLES:
            errors.append(FieldError(field=f"{prefix}roleId", message="unknown role"))
        elif role_id in FAMILY_ROLES:
            if affiliation_id is not None:
                errors.append(
                    FieldError(
                        field=f"{prefix}affiliationId",
                        message="family members have no affiliation",
                    )
                )
        elif affiliation_id is None:
            errors.append(
                FieldError(
                    field=f"{prefix}affiliationId",
                    message="required for every participant outside the family",
                )
            )
        elif affiliation_id not in AFFILIATIONS:
            errors.append(FieldError(field=f"{prefix}affiliationId", message="unknown affiliation"))
        return errors

    @staticmethod
    def consent_required(field_name: str, affiliation_id: str) -> ProblemError:
        """409 `consent-required` naming the uncovered affiliation."""
        return ProblemError(
            409,
            "consent-required",
            "No active consent on the plan covers the affiliation.",
            errors=[FieldError(field=field_name, message="no active consent covers it")],
            extra={"affiliationId": affiliation_id},
        )

    # --- plans ----------------------------------------------------------------------

    def create_plan(self, body: PlanCreate, grant: TokenGrant) -> StoredPlan:
        """Create a plan for the grant's tenant (422 on any rule it breaks)."""
        errors: list[FieldError] = []
        if body.planTypeId not in PLAN_TYPES:
            errors.append(FieldError(field="planTypeId", message="unknown plan type"))
        if body.organizationNumber != grant.organization_number:
            errors.append(
                FieldError(
                    field="organizationNumber",
                    message="not the organisation number of the token's tenant",
                )
            )
        if body.affiliationId is not None and body.affiliationId not in AFFILIATIONS:
            errors.append(FieldError(field="affiliationId", message="unknown affiliation"))
        for i, p in enumerate(body.participants):
            errors += self.participant_errors(p.roleId, p.affiliationId, f"participants.{i}.")
        if errors:
            raise _unprocessable(errors)
        # A new plan has no consents yet: any participant with an affiliation is uncovered.
        uncovered = [
            FieldError(
                field=f"participants.{i}.affiliationId", message="no active consent covers it"
            )
            for i, p in enumerate(body.participants)
            if p.affiliationId is not None
        ]
        if uncovered:
            raise _unprocessable(uncovered, "consent-required")
        plan = StoredPlan(
            tenant_id=grant.tenant_id,
            plan_id=self.new_id(),
            plan_type_id=body.planTypeId,
            organization_number=body.organizationNumber,
            external_reference=body.externalReference,
            main_person=_person(body.mainPerson),
            plan_lead=_person(body.planLead),
            affiliation_id=body.affiliationId,
        )
        for p in body.participants:
            item = ParticipantOut(
                id=self.new_id(),
                name=p.name,
                nin=p.nin,
                roleId=p.roleId,
                affiliationId=p.affiliationId,
                accessAreas=p.accessAreas,
                externalReference=body.externalReference,
            )
            plan.items["participants"][item.id] = item
        self.plans[plan.plan_id] = plan
        return plan

    def close(self, plan_id: str, reason: CloseReason, grant: TokenGrant) -> StoredPlan:
        """Close an open plan; 409 `plan-closed` (with its `closedReason`) when closed."""
        plan = self.writable(plan_id, grant)
        plan.status = PlanStatus.CLOSED
        plan.closed_reason = reason
        return plan

    def change_lead(self, plan_id: str, lead: Person, grant: TokenGrant) -> StoredPlan:
        """A new plan lead for an open plan."""
        plan = self.writable(plan_id, grant)
        plan.plan_lead = _person(lead)
        return plan

    def transfer(
        self, plan_id: str, coordinator: Person, external_reference: str, grant: TokenGrant
    ) -> StoredPlan:
        """Continue a stafettlogg as an individual plan led by `coordinator`; close the source.

        Copied: active goals, measures not ended (their goal and responsible participant
        re-pointed to the copies), every participant, active consents.
        """
        source = self.get(plan_id, grant)
        if source.transferred_to is not None:
            raise ProblemError(
                409,
                "already-transferred",
                "The plan has already been transferred.",
                extra={"transferredToPlanId": source.transferred_to},
            )
        source = self.writable(plan_id, grant)
        if source.plan_type_id != STAFETTLOGG:
            raise _unprocessable(
                [FieldError(field="planId", message="only a stafettlogg can be transferred")]
            )
        target = StoredPlan(
            tenant_id=source.tenant_id,
            plan_id=self.new_id(),
            plan_type_id=IP_PLAN_TYPE,
            organization_number=source.organization_number,
            external_reference=external_reference,
            main_person=source.main_person,
            plan_lead=_person(coordinator),
            affiliation_id=source.affiliation_id,
            transferred_from=source.plan_id,
        )
        new_ids: dict[str, str | None] = {}
        for name in ("participants", "consents", "goals", "measures"):
            for item in source.items[name].values():
                if not _carried_into_ip(item):
                    continue
                copy_id = self.new_id()
                new_ids[getattr(item, "id")] = copy_id  # noqa: B009 - items share `id`
                update: dict[str, Any] = {"id": copy_id}
                if isinstance(item, MeasureOut):
                    if item.goalId is not None:
                        update["goalId"] = new_ids.get(item.goalId)
                    if item.responsibleParticipantId is not None:
                        update["responsibleParticipantId"] = new_ids.get(
                            item.responsibleParticipantId
                        )
                target.items[name][copy_id] = item.model_copy(update=update)
        source.status = PlanStatus.CLOSED
        source.closed_reason = CloseReason.TRANSFERRED_TO_IP
        source.transferred_to = target.plan_id
        self.plans[target.plan_id] = target
        return target

    # --- items ----------------------------------------------------------------------

    def add_item(self, plan: StoredPlan, collection: str, item: BaseModel) -> str:
        """Store a new item; returns its id."""
        item_id: str = getattr(item, "id")  # noqa: B009 - every item model has `id`
        plan.items[collection][item_id] = item
        return item_id

    def item(self, plan: StoredPlan, collection: str, item_id: str) -> BaseModel:
        """One item of a plan, or 404."""
        found = plan.items[collection].get(item_id)
        if found is None:
            raise ProblemError(404, "item-not-found", f"No such item in {collection}.")
        return found

    def patch_item(
        self, plan: StoredPlan, collection: str, item_id: str, changes: dict[str, Any]
    ) -> BaseModel:
        """Apply `changes` to an item; the result must still be a valid item (else 422)."""
        old = self.item(plan, collection, item_id)
        model = COLLECTIONS[collection]
        try:
            new = model.model_validate({**old.model_dump(), **changes, "id": item_id})
        except ValidationError as exc:
            raise _unprocessable(
                FieldError(field=".".join(str(p) for p in e["loc"]), message=e["msg"])
                for e in exc.errors()
            ) from None
        plan.items[collection][item_id] = new
        return new

    def delete_item(self, plan: StoredPlan, collection: str, item_id: str) -> None:
        """Remove an item, or 404."""
        self.item(plan, collection, item_id)
        del plan.items[collection][item_id]

    # --- drift (admin) --------------------------------------------------------------

    def drift_patch_plan(self, plan_id: str, changes: dict[str, Any]) -> PlanOut:
        """Change a plan behind the client's back (any tenant)."""
        plan = self.plans.get(plan_id)
        if plan is None:
            raise ProblemError(404, "plan-not-found", "No such plan.")
        try:
            out = PlanOut.model_validate(
                {**plan.to_out().model_dump(), **changes, "planId": plan_id}
            )
        except ValidationError as exc:
            raise _unprocessable(
                FieldError(field=".".join(str(p) for p in e["loc"]), message=e["msg"])
                for e in exc.errors()
            ) from None
        self.plans[plan_id] = StoredPlan.from_out(plan.tenant_id, out)
        return out

    def drift_plan(self, plan_id: str) -> StoredPlan:
        """A plan by id, whichever tenant owns it (404 if none)."""
        plan = self.plans.get(plan_id)
        if plan is None:
            raise ProblemError(404, "plan-not-found", "No such plan.")
        return plan
