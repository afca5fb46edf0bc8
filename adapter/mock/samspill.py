"""Flyt Samspill under `/samspill/api/v1`: metadata, plans and every plan collection."""

# No `from __future__ import annotations`: FastAPI must resolve the dependency aliases
# defined inside the router factory at runtime.
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from adapter.mock.problems import FieldError, ProblemError, problem_responses
from adapter.mock.samspill_models import (
    AFFILIATIONS,
    LANGUAGES,
    PLAN_TYPES,
    ROLES,
    CalendarIn,
    CalendarPatch,
    CloseIn,
    ConsentIn,
    ConsentPatch,
    Created,
    GoalIn,
    GoalPatch,
    LogIn,
    MeasureIn,
    MeasurePatch,
    MetadataItem,
    ParticipantIn,
    Person,
    PlanCreate,
    PlanCreated,
    PlanList,
    PlanOut,
    ResponsibilityIn,
    ResponsibilityPatch,
    TransferIn,
    Transferred,
)
from adapter.mock.samspill_plans import COLLECTIONS, SamspillBook, StoredPlan
from adapter.mock.state import MockState, TokenGrant
from adapter.mock.token import bearer_grant

__all__ = ["SAMSPILL_PREFIX", "Page", "samspill_router"]

SAMSPILL_PREFIX = "/samspill/api/v1"

ItemT = TypeVar("ItemT", bound=BaseModel)
EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])


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
_ACK: dict[int | str, dict[str, Any]] = {
    202: {"description": "Accepted without an id (the ack-only mode, samspill.md)"}
}


def _ack() -> JSONResponse:
    """What a create answers in the ack-only mode: success, and no id."""
    return JSONResponse({"status": "accepted"}, status_code=202)


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


def _check_participant(plan: StoredPlan, body: ParticipantIn) -> None:
    errors = SamspillBook.participant_errors(body.roleId, body.affiliationId)
    if errors:
        raise ProblemError(422, "validation-error", "Invalid participant.", errors=errors)
    _check_affiliation(plan, "affiliationId", body.affiliationId)


def _check_consent(_plan: StoredPlan, body: ConsentIn) -> None:
    unknown = [
        FieldError(field=f"affiliationIds.{i}", message="unknown affiliation")
        for i, a in enumerate(body.affiliationIds)
        if a not in AFFILIATIONS
    ]
    if unknown:
        raise ProblemError(422, "validation-error", "Invalid consent.", errors=unknown)


def _check_measure(plan: StoredPlan, body: MeasureIn) -> None:
    _check_affiliation(plan, "responsibleAffiliationId", body.responsibleAffiliationId)


def _check_measure_changes(plan: StoredPlan, changes: dict[str, Any]) -> None:
    _check_affiliation(plan, "responsibleAffiliationId", changes.get("responsibleAffiliationId"))


@dataclass(frozen=True)
class _Collection:
    """One plan collection's routes under `/plans/{planId}/<name>`.

    Every collection has `POST` (add) and a paged `GET` (list); `patch`, `delete_doc` and
    `append_only` switch on `PATCH`, `DELETE` or a 405 for both. The checks run after the
    plan is known writable (and, for `check_changes`, the item known to exist)."""

    name: str  # path segment and `StoredPlan.items` key; items are `COLLECTIONS[name]`
    singular: str  # route names: add_<singular>, patch_<singular>, ...
    body: type[BaseModel]
    add_doc: str
    check: Callable[[StoredPlan, Any], None] | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)  # set on every new item
    patch: tuple[type[BaseModel], str] | None = None  # (body model, doc)
    check_changes: Callable[[StoredPlan, dict[str, Any]], None] | None = None
    delete_doc: str | None = None
    append_only: bool = False


_PLAN_COLLECTIONS = (
    _Collection(
        "participants",
        "participant",
        ParticipantIn,
        "Add a participant; an affiliation needs an active consent covering it.",
        check=_check_participant,
        delete_doc="Remove a participant.",
    ),
    _Collection(
        "consents",
        "consent",
        ConsentIn,
        "Add an active consent covering `affiliationIds`.",
        check=_check_consent,
        defaults={"status": "active"},
        patch=(ConsentPatch, "Withdraw (or expire) a consent."),
    ),
    _Collection("goals", "goal", GoalIn, "Add a goal.", patch=(GoalPatch, "Change a goal.")),
    _Collection(
        "measures",
        "measure",
        MeasureIn,
        "Add a measure; a responsible affiliation needs an active consent covering it.",
        check=_check_measure,
        patch=(MeasurePatch, "Change a measure (a new responsible affiliation needs consent)."),
        check_changes=_check_measure_changes,
    ),
    _Collection(
        "responsibilities",
        "responsibility",
        ResponsibilityIn,
        "Add a responsibility.",
        patch=(ResponsibilityPatch, "Change a responsibility."),
    ),
    _Collection(
        "calendar",
        "calendar",
        CalendarIn,
        "Add a calendar entry.",
        patch=(CalendarPatch, "Change a calendar entry."),
    ),
    _Collection("log", "log", LogIn, "Append a log line.", append_only=True),
)


def _with_body(endpoint: EndpointT, model: type[BaseModel]) -> EndpointT:
    """FastAPI reads the body model from the annotation: give it the concrete class."""
    endpoint.__annotations__["body"] = model
    return endpoint


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

    @router.post("/plans", status_code=201, response_model=PlanCreated, responses=_WRITE | _ACK)
    async def create_plan(body: PlanCreate, grant: Grant) -> Any:
        """Create a plan (422 on a broken rule, `consent-required` for covered participants)."""
        plan = book.create_plan(body, grant)
        if book.ack_only:
            return _ack()
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

    # --- plan collections -----------------------------------------------------------

    def collection_routes(spec: _Collection) -> None:
        name = spec.name
        items_path = f"/plans/{{planId}}/{name}"
        item_path = f"{items_path}/{{itemId}}"
        out_model = COLLECTIONS[name]

        async def add(planId: str, body: BaseModel, grant: Grant) -> Any:
            plan = book.writable(planId, grant)
            if spec.check is not None:
                spec.check(plan, body)
            item = out_model(id=book.new_id(), **spec.defaults, **body.model_dump())
            created = Created(id=book.add_item(plan, name, item))
            return _ack() if book.ack_only else created

        async def list_items(
            planId: str,
            grant: Grant,
            externalReference: ExternalRef = None,
            limit: Limit = 100,
            offset: Offset = 0,
        ) -> Any:
            items = list(book.get(planId, grant).items[name].values())
            return _page(items, externalReference, limit, offset)

        async def patch(planId: str, itemId: str, body: BaseModel, grant: Grant) -> Any:
            plan = book.writable(planId, grant)
            changes = body.model_dump(exclude_unset=True)
            if spec.check_changes is not None:
                book.item(plan, name, itemId)
                spec.check_changes(plan, changes)
            return book.patch_item(plan, name, itemId, changes)

        async def delete(planId: str, itemId: str, grant: Grant) -> Response:
            book.delete_item(book.writable(planId, grant), name, itemId)
            return Response(status_code=204)

        async def refuse(planId: str, itemId: str) -> Response:
            raise ProblemError(405, "method-not-allowed", f"The {name} is append-only.")

        router.add_api_route(
            items_path,
            _with_body(add, spec.body),
            methods=["POST"],
            status_code=201,
            response_model=Created,
            responses=_WRITE | _ACK,
            name=f"add_{spec.singular}",
            description=spec.add_doc,
        )
        router.add_api_route(
            items_path,
            list_items,
            methods=["GET"],
            response_model=Page[out_model],  # type: ignore[valid-type]  # a class per collection
            responses=_READ,
            name=f"list_{name}",
            description=f"The plan's {name}.",
        )
        if spec.patch is not None:
            patch_model, patch_doc = spec.patch
            router.add_api_route(
                item_path,
                _with_body(patch, patch_model),
                methods=["PATCH"],
                response_model=out_model,
                responses=_WRITE,
                name=f"patch_{spec.singular}",
                description=patch_doc,
            )
        if spec.delete_doc is not None:
            router.add_api_route(
                item_path,
                delete,
                methods=["DELETE"],
                status_code=204,
                responses=_WRITE,
                name=f"remove_{spec.singular}",
                description=spec.delete_doc,
            )
        if spec.append_only:
            router.add_api_route(
                item_path,
                refuse,
                methods=["PATCH", "DELETE"],
                include_in_schema=False,
                name=f"{name}_is_append_only",
                description=f"The {name} is append-only.",
            )

    for spec in _PLAN_COLLECTIONS:
        collection_routes(spec)

    return router
