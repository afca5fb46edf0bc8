"""Flyt Samspill under `/samspill/api/v1`: metadata, plans and every plan collection."""

# No `from __future__ import annotations`: FastAPI must resolve the dependency aliases
# defined inside the router factory at runtime.
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict

from adapter.mock.problems import FieldError, ProblemError, problem_responses
from adapter.mock.samspill_models import (
    AFFILIATIONS,
    LANGUAGES,
    PLAN_TYPES,
    ROLES,
    CalendarIn,
    CalendarOut,
    CalendarPatch,
    CloseIn,
    ConsentIn,
    ConsentOut,
    ConsentPatch,
    Created,
    GoalIn,
    GoalOut,
    GoalPatch,
    LogIn,
    LogOut,
    MeasureIn,
    MeasureOut,
    MeasurePatch,
    MetadataItem,
    ParticipantIn,
    ParticipantOut,
    Person,
    PlanCreate,
    PlanCreated,
    PlanList,
    PlanOut,
    ResponsibilityIn,
    ResponsibilityOut,
    ResponsibilityPatch,
    TransferIn,
    Transferred,
)
from adapter.mock.samspill_plans import SamspillBook, StoredPlan
from adapter.mock.state import MockState, TokenGrant
from adapter.mock.token import bearer_grant

__all__ = ["SAMSPILL_PREFIX", "Page", "samspill_router"]

SAMSPILL_PREFIX = "/samspill/api/v1"

ItemT = TypeVar("ItemT", bound=BaseModel)


class Page(BaseModel, Generic[ItemT]):
    """A page of a list: `total` counts every match, `items` the page."""

    model_config = ConfigDict(frozen=True)

    items: list[ItemT]
    total: int


Limit = Annotated[int, Query(ge=1, le=500, description="Page size (default 100, max 500).")]
Offset = Annotated[int, Query(ge=0, description="Items to skip.")]
ExternalRef = Annotated[str | None, Query(description="Only items with this reference.")]

_READ = problem_responses(401, 404, 422)
_WRITE = problem_responses(401, 404, 409, 422)


def _page(items: list[Any], external_reference: str | None, limit: int, offset: int) -> Any:
    matching = [
        i for i in items if external_reference is None or i.externalReference == external_reference
    ]
    return {"items": matching[offset : offset + limit], "total": len(matching)}


def _metadata(table: dict[str, tuple[str, str, str]], lang: str) -> list[MetadataItem]:
    if lang not in LANGUAGES:
        raise ProblemError(
            400,
            "unsupported-language",
            "lang must be nb, nn or en.",
            errors=[FieldError(field="lang", message="must be one of nb, nn, en")],
        )
    index = LANGUAGES.index(lang)
    return [MetadataItem(id=key, name=names[index]) for key, names in table.items()]


def _check_affiliation(plan: StoredPlan, field_name: str, affiliation_id: str | None) -> None:
    if affiliation_id is None:
        return
    if affiliation_id not in AFFILIATIONS:
        raise ProblemError(
            422,
            "validation-error",
            "Unknown affiliation.",
            errors=[FieldError(field=field_name, message="unknown affiliation")],
        )
    if not plan.active_consent_covers(affiliation_id):
        raise SamspillBook.consent_required(field_name, affiliation_id)


def samspill_router(state: MockState, book: SamspillBook) -> APIRouter:
    """All Samspill routes; every one needs a live bearer token of the plan's tenant."""
    Grant = Annotated[TokenGrant, Depends(bearer_grant(state))]
    router = APIRouter(prefix=SAMSPILL_PREFIX, tags=["samspill"])

    # --- metadata -------------------------------------------------------------------

    @router.get(
        "/plantypes", response_model=list[MetadataItem], responses=_READ | problem_responses(400)
    )
    async def plan_types(_grant: Grant, lang: str = "nb") -> list[MetadataItem]:
        """Plan types in `lang`."""
        return _metadata(PLAN_TYPES, lang)

    @router.get(
        "/roles", response_model=list[MetadataItem], responses=_READ | problem_responses(400)
    )
    async def roles(_grant: Grant, lang: str = "nb") -> list[MetadataItem]:
        """Participant roles in `lang`."""
        return _metadata(ROLES, lang)

    @router.get(
        "/affiliations", response_model=list[MetadataItem], responses=_READ | problem_responses(400)
    )
    async def affiliations(_grant: Grant, lang: str = "nb") -> list[MetadataItem]:
        """Plan affiliations (the services) in `lang`."""
        return _metadata(AFFILIATIONS, lang)

    # --- plans ----------------------------------------------------------------------

    @router.post("/plans", status_code=201, response_model=PlanCreated, responses=_WRITE)
    async def create_plan(body: PlanCreate, grant: Grant) -> PlanCreated:
        """Create a plan (422 on a broken rule, `consent-required` for covered participants)."""
        plan = book.create_plan(body, grant)
        return PlanCreated(planId=plan.plan_id, status=plan.status, planTypeId=plan.plan_type_id)

    @router.get("/plans", response_model=PlanList, responses=_READ)
    async def list_plans(
        grant: Grant, externalReference: ExternalRef = None, limit: Limit = 100, offset: Offset = 0
    ) -> Any:
        """The tenant's plans, filtered by `externalReference`, paged."""
        plans = [p.to_out() for p in book.find(grant, externalReference)]
        return {"items": plans[offset : offset + limit], "total": len(plans)}

    @router.get("/plans/{planId}", response_model=PlanOut, responses=_READ)
    async def get_plan(planId: str, grant: Grant) -> PlanOut:
        """The whole plan."""
        return book.get(planId, grant).to_out()

    @router.post("/plans/{planId}/close", response_model=PlanOut, responses=_WRITE)
    async def close_plan(planId: str, body: CloseIn, grant: Grant) -> PlanOut:
        """Close the plan (409 `plan-closed` when already closed)."""
        return book.close(planId, body.reason, grant).to_out()

    @router.put("/plans/{planId}/lead", response_model=PlanOut, responses=_WRITE)
    async def change_lead(planId: str, body: Person, grant: Grant) -> PlanOut:
        """A new plan lead (stafettholder or koordinator)."""
        return book.change_lead(planId, body, grant).to_out()

    @router.post(
        "/plans/{planId}/transfer", status_code=201, response_model=Transferred, responses=_WRITE
    )
    async def transfer(planId: str, body: TransferIn, grant: Grant) -> Transferred:
        """Continue the stafettlogg as an individual plan (409 `already-transferred`)."""
        if body.targetPlanTypeId != "individuell-plan":
            raise ProblemError(
                422,
                "validation-error",
                "Plans can only be transferred to an individual plan.",
                errors=[FieldError(field="targetPlanTypeId", message="must be individuell-plan")],
            )
        target = book.transfer(planId, body.coordinator, body.externalReference, grant)
        return Transferred(planId=target.plan_id, sourcePlanId=planId)

    # --- participants ---------------------------------------------------------------

    @router.post(
        "/plans/{planId}/participants", status_code=201, response_model=Created, responses=_WRITE
    )
    async def add_participant(planId: str, body: ParticipantIn, grant: Grant) -> Created:
        """Add a participant; an affiliation needs an active consent covering it."""
        plan = book.writable(planId, grant)
        errors = SamspillBook.participant_errors(body.roleId, body.affiliationId)
        if errors:
            raise ProblemError(422, "validation-error", "Invalid participant.", errors=errors)
        _check_affiliation(plan, "affiliationId", body.affiliationId)
        item = ParticipantOut(id=book.new_id(), **body.model_dump())
        return Created(id=book.add_item(plan, "participants", item))

    @router.get(
        "/plans/{planId}/participants", response_model=Page[ParticipantOut], responses=_READ
    )
    async def list_participants(
        planId: str,
        grant: Grant,
        externalReference: ExternalRef = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        """The plan's participants."""
        items = list(book.get(planId, grant).items["participants"].values())
        return _page(items, externalReference, limit, offset)

    @router.delete("/plans/{planId}/participants/{itemId}", status_code=204, responses=_WRITE)
    async def remove_participant(planId: str, itemId: str, grant: Grant) -> Response:
        """Remove a participant."""
        book.delete_item(book.writable(planId, grant), "participants", itemId)
        return Response(status_code=204)

    # --- consents -------------------------------------------------------------------

    @router.post(
        "/plans/{planId}/consents", status_code=201, response_model=Created, responses=_WRITE
    )
    async def add_consent(planId: str, body: ConsentIn, grant: Grant) -> Created:
        """Add an active consent covering `affiliationIds`."""
        plan = book.writable(planId, grant)
        unknown = [
            FieldError(field=f"affiliationIds.{i}", message="unknown affiliation")
            for i, a in enumerate(body.affiliationIds)
            if a not in AFFILIATIONS
        ]
        if unknown:
            raise ProblemError(422, "validation-error", "Invalid consent.", errors=unknown)
        item = ConsentOut(id=book.new_id(), status="active", **body.model_dump())
        return Created(id=book.add_item(plan, "consents", item))

    @router.get("/plans/{planId}/consents", response_model=Page[ConsentOut], responses=_READ)
    async def list_consents(
        planId: str,
        grant: Grant,
        externalReference: ExternalRef = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        """The plan's consents."""
        items = list(book.get(planId, grant).items["consents"].values())
        return _page(items, externalReference, limit, offset)

    @router.patch("/plans/{planId}/consents/{itemId}", response_model=ConsentOut, responses=_WRITE)
    async def patch_consent(planId: str, itemId: str, body: ConsentPatch, grant: Grant) -> Any:
        """Withdraw (or expire) a consent."""
        plan = book.writable(planId, grant)
        return book.patch_item(plan, "consents", itemId, body.model_dump(exclude_unset=True))

    # --- goals ----------------------------------------------------------------------

    @router.post("/plans/{planId}/goals", status_code=201, response_model=Created, responses=_WRITE)
    async def add_goal(planId: str, body: GoalIn, grant: Grant) -> Created:
        """Add a goal."""
        plan = book.writable(planId, grant)
        return Created(
            id=book.add_item(plan, "goals", GoalOut(id=book.new_id(), **body.model_dump()))
        )

    @router.get("/plans/{planId}/goals", response_model=Page[GoalOut], responses=_READ)
    async def list_goals(
        planId: str,
        grant: Grant,
        externalReference: ExternalRef = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        """The plan's goals."""
        items = list(book.get(planId, grant).items["goals"].values())
        return _page(items, externalReference, limit, offset)

    @router.patch("/plans/{planId}/goals/{itemId}", response_model=GoalOut, responses=_WRITE)
    async def patch_goal(planId: str, itemId: str, body: GoalPatch, grant: Grant) -> Any:
        """Change a goal."""
        plan = book.writable(planId, grant)
        return book.patch_item(plan, "goals", itemId, body.model_dump(exclude_unset=True))

    # --- measures -------------------------------------------------------------------

    @router.post(
        "/plans/{planId}/measures", status_code=201, response_model=Created, responses=_WRITE
    )
    async def add_measure(planId: str, body: MeasureIn, grant: Grant) -> Created:
        """Add a measure; a responsible affiliation needs an active consent covering it."""
        plan = book.writable(planId, grant)
        _check_affiliation(plan, "responsibleAffiliationId", body.responsibleAffiliationId)
        item = MeasureOut(id=book.new_id(), **body.model_dump())
        return Created(id=book.add_item(plan, "measures", item))

    @router.get("/plans/{planId}/measures", response_model=Page[MeasureOut], responses=_READ)
    async def list_measures(
        planId: str,
        grant: Grant,
        externalReference: ExternalRef = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        """The plan's measures."""
        items = list(book.get(planId, grant).items["measures"].values())
        return _page(items, externalReference, limit, offset)

    @router.patch("/plans/{planId}/measures/{itemId}", response_model=MeasureOut, responses=_WRITE)
    async def patch_measure(planId: str, itemId: str, body: MeasurePatch, grant: Grant) -> Any:
        """Change a measure (a new responsible affiliation needs consent)."""
        plan = book.writable(planId, grant)
        changes = body.model_dump(exclude_unset=True)
        book.item(plan, "measures", itemId)
        _check_affiliation(
            plan, "responsibleAffiliationId", changes.get("responsibleAffiliationId")
        )
        return book.patch_item(plan, "measures", itemId, changes)

    # --- responsibilities -----------------------------------------------------------

    @router.post(
        "/plans/{planId}/responsibilities",
        status_code=201,
        response_model=Created,
        responses=_WRITE,
    )
    async def add_responsibility(planId: str, body: ResponsibilityIn, grant: Grant) -> Created:
        """Add a responsibility."""
        plan = book.writable(planId, grant)
        item = ResponsibilityOut(id=book.new_id(), **body.model_dump())
        return Created(id=book.add_item(plan, "responsibilities", item))

    @router.get(
        "/plans/{planId}/responsibilities",
        response_model=Page[ResponsibilityOut],
        responses=_READ,
    )
    async def list_responsibilities(
        planId: str,
        grant: Grant,
        externalReference: ExternalRef = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        """The plan's responsibilities."""
        items = list(book.get(planId, grant).items["responsibilities"].values())
        return _page(items, externalReference, limit, offset)

    @router.patch(
        "/plans/{planId}/responsibilities/{itemId}",
        response_model=ResponsibilityOut,
        responses=_WRITE,
    )
    async def patch_responsibility(
        planId: str, itemId: str, body: ResponsibilityPatch, grant: Grant
    ) -> Any:
        """Change a responsibility."""
        plan = book.writable(planId, grant)
        return book.patch_item(
            plan, "responsibilities", itemId, body.model_dump(exclude_unset=True)
        )

    # --- calendar -------------------------------------------------------------------

    @router.post(
        "/plans/{planId}/calendar", status_code=201, response_model=Created, responses=_WRITE
    )
    async def add_calendar(planId: str, body: CalendarIn, grant: Grant) -> Created:
        """Add a calendar entry."""
        plan = book.writable(planId, grant)
        item = CalendarOut(id=book.new_id(), **body.model_dump())
        return Created(id=book.add_item(plan, "calendar", item))

    @router.get("/plans/{planId}/calendar", response_model=Page[CalendarOut], responses=_READ)
    async def list_calendar(
        planId: str,
        grant: Grant,
        externalReference: ExternalRef = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        """The plan's calendar."""
        items = list(book.get(planId, grant).items["calendar"].values())
        return _page(items, externalReference, limit, offset)

    @router.patch("/plans/{planId}/calendar/{itemId}", response_model=CalendarOut, responses=_WRITE)
    async def patch_calendar(planId: str, itemId: str, body: CalendarPatch, grant: Grant) -> Any:
        """Change a calendar entry."""
        plan = book.writable(planId, grant)
        return book.patch_item(plan, "calendar", itemId, body.model_dump(exclude_unset=True))

    # --- log (append-only) ----------------------------------------------------------

    @router.post("/plans/{planId}/log", status_code=201, response_model=Created, responses=_WRITE)
    async def add_log(planId: str, body: LogIn, grant: Grant) -> Created:
        """Append a log line."""
        plan = book.writable(planId, grant)
        return Created(id=book.add_item(plan, "log", LogOut(id=book.new_id(), **body.model_dump())))

    @router.get("/plans/{planId}/log", response_model=Page[LogOut], responses=_READ)
    async def list_log(
        planId: str,
        grant: Grant,
        externalReference: ExternalRef = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        """The plan's log."""
        items = list(book.get(planId, grant).items["log"].values())
        return _page(items, externalReference, limit, offset)

    @router.api_route(
        "/plans/{planId}/log/{itemId}", methods=["PATCH", "DELETE"], include_in_schema=False
    )
    async def log_is_append_only(planId: str, itemId: str) -> Response:
        """The log is append-only."""
        raise ProblemError(405, "method-not-allowed", "The log is append-only.")

    return router
