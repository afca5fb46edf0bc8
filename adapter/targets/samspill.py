"""The Flyt Samspill client: the only module that knows Samspill's paths and field names.

`execute` performs one operation once; `lookup` finds what an earlier, ambiguous attempt
may have created, by the item's `externalReference`. The dispatcher resolves every
`*_link` key of a payload into `ids` before calling.

Outcomes beyond the plain HTTP table of `adapter.targets.http`:

- 401: the token is dropped, renewed once and the call repeated once; a second 401 is
  permanent (the client or its scope is wrong).
- Idempotent successes: 409 `plan-closed` on close when the plan is already closed with
  the same reason; 404 on a DELETE; 409 `already-transferred` (the target plan is adopted).
- 409 `consent-required` is permanent: the planner should have held the operation.
- A failure after a create took effect (the plan's read-back, the transfer's adoption) is
  ambiguous (`adapter.targets.created`): looked up by reference, never created twice.

The plan lead [assumption]: the links key ``lead`` resolves to the literal ``"lead"``. A
calendar entry leaves the lead out of `participantIds` (the lead is no participant); a
responsibility or a measure names it as `participantId` / `responsibleParticipantId`
``"lead"``, which the API is assumed to accept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import httpx

from adapter.errors import AmbiguousError, PermanentError
from adapter.logs import get_logger
from adapter.planning.links import LEAD_LINK
from adapter.planning.operations import OpKind
from adapter.planning.payloads import (
    AddConsent,
    AddParticipant,
    AppendLog,
    ChangeLead,
    ClosePlan,
    CreateCalendar,
    CreateGoal,
    CreateMeasure,
    CreatePlan,
    CreateResponsibility,
    FamilyMember,
    Payload,
    PersonRef,
    RemoveParticipant,
    TransferPlan,
    UpdateCalendar,
    UpdateConsent,
    UpdateGoal,
    UpdateMeasure,
    UpdateResponsibility,
)
from adapter.settings.tenant import DEFAULT_ACCESS_AREAS
from adapter.targets.auth import TokenCache
from adapter.targets.created import after_create
from adapter.targets.http import (
    PROBE_REF,
    endpoint_of,
    problem_type,
    raise_for_outcome,
    transport_error,
)
from adapter.targets.result import Result

__all__ = [
    "IP_PLAN_TYPE",
    "SamspillClient",
    "item_fields",
    "person_fields",
]

log = get_logger(__name__)

IP_PLAN_TYPE = "individuell-plan"

_COLLECTIONS = ("participants", "consents", "goals", "measures", "responsibilities", "calendar")
"""Plan collections a transfer may copy and `adopt` may name."""

_CREATED_IN: dict[OpKind, str] = {
    OpKind.ADD_CONSENT: "consents",
    OpKind.ADD_PARTICIPANT: "participants",
    OpKind.CREATE_GOAL: "goals",
    OpKind.CREATE_MEASURE: "measures",
    OpKind.CREATE_RESPONSIBILITY: "responsibilities",
    OpKind.CREATE_CALENDAR: "calendar",
    OpKind.APPEND_LOG: "log",
}
"""Item creates: the collection their item lands in (what `lookup` searches)."""

P = TypeVar("P", bound=Payload)
Handler = Callable[[Payload, Mapping[str, str], str], Awaitable[Result]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _moment(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _compact(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body without absent (None) optional fields."""
    return {k: v for k, v in body.items() if v is not None}


def _person(person: PersonRef) -> dict[str, Any]:
    return _compact({"name": person.name, "nin": person.nin})


def _id(ids: Mapping[str, str], key: str, op_ref: str) -> str:
    try:
        return ids[key]
    except KeyError:
        raise PermanentError(f"no remote id resolved for {key!r}", op_ref=op_ref) from None


def _maybe_id(ids: Mapping[str, str], key: str | None, op_ref: str) -> str | None:
    return None if key is None else _id(ids, key, op_ref)


def _as(kind: type[P], payload: Payload) -> P:
    if not isinstance(payload, kind):
        raise PermanentError(f"payload {type(payload).__name__} is not {kind.__name__}")
    return payload


class SamspillClient:
    """One tenant's Samspill API over the shared HTTP client and that tenant's token cache.

    `clock` (aware UTC) judges an HTTP-date `Retry-After`; tests pass their fake clock.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        tokens: TokenCache,
        *,
        base_url: str,
        access_areas: Iterable[str] = DEFAULT_ACCESS_AREAS,
        retry_after_cap_s: float | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._http = http
        self._clock = clock
        self._tokens = tokens
        self._base = base_url.rstrip("/")
        self._access_areas = tuple(access_areas)
        self._retry_after_cap_s = retry_after_cap_s
        self._handlers: dict[OpKind, Handler] = {
            OpKind.CREATE_PLAN: self._create_plan,
            OpKind.ADD_CONSENT: self._add_consent,
            OpKind.UPDATE_CONSENT: self._update_consent,
            OpKind.ADD_PARTICIPANT: self._add_participant,
            OpKind.REMOVE_PARTICIPANT: self._remove_participant,
            OpKind.CREATE_GOAL: self._create_goal,
            OpKind.UPDATE_GOAL: self._update_goal,
            OpKind.CREATE_MEASURE: self._create_measure,
            OpKind.UPDATE_MEASURE: self._update_measure,
            OpKind.CREATE_RESPONSIBILITY: self._create_responsibility,
            OpKind.UPDATE_RESPONSIBILITY: self._update_responsibility,
            OpKind.CREATE_CALENDAR: self._create_calendar,
            OpKind.UPDATE_CALENDAR: self._update_calendar,
            OpKind.APPEND_LOG: self._append_log,
            OpKind.CHANGE_LEAD: self._change_lead,
            OpKind.CLOSE_PLAN: self._close_plan,
            OpKind.TRANSFER_PLAN: self._transfer_plan,
        }

    # --- the TargetClient protocol ----------------------------------------------------

    async def execute(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result:
        """Perform one Samspill operation once."""
        handler = self._handlers.get(kind)
        if handler is None:
            raise PermanentError(f"{kind.value} is not a Samspill operation", op_ref=op_ref)
        return await handler(payload, ids, op_ref)

    async def lookup(
        self, kind: OpKind, payload: Payload, ids: Mapping[str, str], *, op_ref: str
    ) -> Result | None:
        """The item an earlier attempt created (by `externalReference`), or None.

        Updates, deletes, lead changes and closes are safe to repeat, so they have nothing to
        look up (None).
        """
        if kind is OpKind.CREATE_PLAN:
            create = _as(CreatePlan, payload)
            plans = await self._list("/plans", create.external_reference, op_ref)
            if not plans:
                return None
            return Result(
                remote_id=str(plans[0]["planId"]),
                extra_links=_family_links(create.family, plans[0]),
                status=200,
            )
        if kind is OpKind.TRANSFER_PLAN:
            transfer = _as(TransferPlan, payload)
            source = await self._plan(_id(ids, transfer.plan_link, op_ref), op_ref)
            target = source.get("transferredToPlanId")
            if not isinstance(target, str):
                return None
            return await self._adopt_transfer(transfer, target, op_ref, status=200)
        collection = _CREATED_IN.get(kind)
        if collection is None:
            return None
        plan_id = _id(ids, _plan_link(payload), op_ref)
        reference = _external_reference(payload)
        items = await self._list(f"/plans/{plan_id}/{collection}", reference, op_ref)
        if not items:
            return None
        return Result(remote_id=str(items[0]["id"]), status=200)

    async def probe(self) -> int:
        """A token from the token cache and one cheap read (`GET /plantypes`) through the
        path every call takes, for `config check --probe`. Returns the HTTP status; raises
        the `RemoteError` a failing call would (a refused token: PermanentError)."""
        response = await self._send("GET", "/plantypes", PROBE_REF)
        self._raise(response, PROBE_REF)
        return response.status_code

    # --- reads for resync and reconcile ------------------------------------------------

    async def get_plan(self, plan_id: str, *, op_ref: str) -> dict[str, Any] | None:
        """The whole plan (`GET /plans/{id}`, with every collection), or None when unknown."""
        response = await self._send("GET", f"/plans/{plan_id}", op_ref)
        if response.status_code == 404:
            return None
        self._raise(response, op_ref)
        return _json(response)

    async def find_plans(self, external_reference: str, *, op_ref: str) -> list[dict[str, Any]]:
        """The plans carrying `external_reference` (normally none or one)."""
        return await self._list("/plans", external_reference, op_ref)

    # --- plans ------------------------------------------------------------------------

    async def _create_plan(self, payload: Payload, ids: Mapping[str, str], op_ref: str) -> Result:
        p = _as(CreatePlan, payload)
        body = _compact(
            {
                "planTypeId": p.plan_type,
                "organizationNumber": p.organization_number,
                "mainPerson": _person(p.main_person),
                "planLead": _person(p.lead),
                "participants": [
                    {**_person(m), "roleId": m.role, "accessAreas": []} for m in p.family
                ],
                "affiliationId": p.affiliation,
                "externalReference": p.external_reference,
            }
        )
        response = await self._send("POST", "/plans", op_ref, json=body)
        self._raise(response, op_ref)
        with after_create("POST /plans", op_ref=op_ref):
            plan_id = _created_id(response, "planId", op_ref)
            links: dict[str, str] = {}
            if p.family:
                links = _family_links(p.family, await self._plan(plan_id, op_ref))
        return Result(remote_id=plan_id, extra_links=links, status=response.status_code)

    async def _change_lead(self, payload: Payload, ids: Mapping[str, str], op_ref: str) -> Result:
        p = _as(ChangeLead, payload)
        plan_id = _id(ids, p.plan_link, op_ref)
        response = await self._send("PUT", f"/plans/{plan_id}/lead", op_ref, json=_person(p.lead))
        self._raise(response, op_ref)
        return Result(status=response.status_code)

    async def _close_plan(self, payload: Payload, ids: Mapping[str, str], op_ref: str) -> Result:
        p = _as(ClosePlan, payload)
        plan_id = _id(ids, p.plan_link, op_ref)
        body = {"reason": p.reason}
        response = await self._send("POST", f"/plans/{plan_id}/close", op_ref, json=body)
        if response.status_code == 409 and problem_type(response) == "plan-closed":
            plan = await self._plan(plan_id, op_ref)
            if plan.get("status") == "closed" and plan.get("closedReason") == p.reason:
                log.info("plan already closed with that reason", op_ref=op_ref)
                return Result(status=response.status_code)
        self._raise(response, op_ref)
        return Result(status=response.status_code)

    async def _transfer_plan(self, payload: Payload, ids: Mapping[str, str], op_ref: str) -> Result:
        p = _as(TransferPlan, payload)
        plan_id = _id(ids, p.plan_link, op_ref)
        body = {
            "targetPlanTypeId": IP_PLAN_TYPE,
            "coordinator": _person(p.coordinator),
            "externalReference": p.external_reference,
        }
        response = await self._send("POST", f"/plans/{plan_id}/transfer", op_ref, json=body)
        if response.status_code == 409 and problem_type(response) == "already-transferred":
            target = _json(response).get("transferredToPlanId")
            if not isinstance(target, str):
                target = (await self._plan(plan_id, op_ref)).get("transferredToPlanId")
            if isinstance(target, str):
                log.info("plan already transferred; adopting the target plan", op_ref=op_ref)
                return await self._adopt_transfer(p, target, op_ref, status=409)
        self._raise(response, op_ref)
        with after_create("POST /plans/{id}/transfer", op_ref=op_ref):
            target_id = _created_id(response, "planId", op_ref)
            return await self._adopt_transfer(p, target_id, op_ref, status=response.status_code)

    async def _adopt_transfer(
        self, p: TransferPlan, target_id: str, op_ref: str, *, status: int
    ) -> Result:
        links: dict[str, str] = {}
        if p.adopt or p.family:
            plan = await self._plan(target_id, op_ref)
            links.update(_family_links(p.family, plan))
            by_reference: dict[str, str] = {}
            for collection in _COLLECTIONS:
                for item in plan.get(collection) or []:
                    reference = item.get("externalReference")
                    if isinstance(reference, str):
                        by_reference.setdefault(reference, str(item["id"]))
            for key, reference in p.adopt.items():
                found = by_reference.get(reference)
                if found is None:
                    log.warning(
                        "transferred item not found on the new plan", op_ref=op_ref, key=key
                    )
                else:
                    links[key] = found
        return Result(remote_id=target_id, extra_links=links, status=status)

    # --- consents ---------------------------------------------------------------------

    async def _add_consent(self, payload: Payload, ids: Mapping[str, str], op_ref: str) -> Result:
        p = _as(AddConsent, payload)
        body = _compact(
            {
                "givenBy": [{**_person(g), "relation": g.relation} for g in p.given_by],
                "affiliationIds": list(p.services),
                "validFrom": _day(p.valid_from),
                "validTo": _day(p.valid_to),
                "documentReference": p.document_reference,
                "externalReference": p.external_reference,
            }
        )
        return await self._create(p.plan_link, "consents", body, ids, op_ref)

    async def _update_consent(
        self, payload: Payload, ids: Mapping[str, str], op_ref: str
    ) -> Result:
        p = _as(UpdateConsent, payload)
        return await self._patch(
            p.plan_link, "consents", p.consent_link, {"status": p.status}, ids, op_ref
        )

    # --- participants -----------------------------------------------------------------

    async def _add_participant(
        self, payload: Payload, ids: Mapping[str, str], op_ref: str
    ) -> Result:
        p = _as(AddParticipant, payload)
        areas = p.access_areas or (self._access_areas if p.service is not None else ())
        body = _compact(
            {
                "name": p.name,
                "nin": p.nin,
                "roleId": p.role,
                "affiliationId": p.service,
                "accessAreas": list(areas),
                "externalReference": p.external_reference,
            }
        )
        return await self._create(p.plan_link, "participants", body, ids, op_ref)

    async def _remove_participant(
        self, payload: Payload, ids: Mapping[str, str], op_ref: str
    ) -> Result:
        p = _as(RemoveParticipant, payload)
        plan_id = _id(ids, p.plan_link, op_ref)
        item_id = _id(ids, p.participant_link, op_ref)
        path = f"/plans/{plan_id}/participants/{item_id}"
        response = await self._send("DELETE", path, op_ref)
        if response.status_code == 404:
            log.info("participant already gone", op_ref=op_ref)
            return Result(status=404)
        self._raise(response, op_ref)
        return Result(status=response.status_code)

    # --- goals and measures -----------------------------------------------------------

    async def _create_goal(self, payload: Payload, ids: Mapping[str, str], op_ref: str) -> Result:
        p = _as(CreateGoal, payload)
        body = _goal_fields(p, ids, op_ref)
        return await self._create(p.plan_link, "goals", body, ids, op_ref)

    async def _update_goal(self, payload: Payload, ids: Mapping[str, str], op_ref: str) -> Result:
        p = _as(UpdateGoal, payload)
        changes = _goal_fields(p, ids, op_ref)
        return await self._patch(p.plan_link, "goals", p.goal_link, changes, ids, op_ref)

    async def _create_measure(
        self, payload: Payload, ids: Mapping[str, str], op_ref: str
    ) -> Result:
        p = _as(CreateMeasure, payload)
        body = _measure_fields(p, ids, op_ref)
        return await self._create(p.plan_link, "measures", body, ids, op_ref)

    async def _update_measure(
        self, payload: Payload, ids: Mapping[str, str], op_ref: str
    ) -> Result:
        p = _as(UpdateMeasure, payload)
        changes = _measure_fields(p, ids, op_ref)
        return await self._patch(p.plan_link, "measures", p.measure_link, changes, ids, op_ref)

    # --- responsibilities, calendar, log ----------------------------------------------

    async def _create_responsibility(
        self, payload: Payload, ids: Mapping[str, str], op_ref: str
    ) -> Result:
        p = _as(CreateResponsibility, payload)
        body = _responsibility_fields(p, ids, op_ref)
        return await self._create(p.plan_link, "responsibilities", body, ids, op_ref)

    async def _update_responsibility(
        self, payload: Payload, ids: Mapping[str, str], op_ref: str
    ) -> Result:
        p = _as(UpdateResponsibility, payload)
        changes = _responsibility_fields(p, ids, op_ref)
        return await self._patch(
            p.plan_link, "responsibilities", p.responsibility_link, changes, ids, op_ref
        )

    async def _create_calendar(
        self, payload: Payload, ids: Mapping[str, str], op_ref: str
    ) -> Result:
        p = _as(CreateCalendar, payload)
        body = _calendar_fields(p, ids, op_ref)
        return await self._create(p.plan_link, "calendar", body, ids, op_ref)

    async def _update_calendar(
        self, payload: Payload, ids: Mapping[str, str], op_ref: str
    ) -> Result:
        p = _as(UpdateCalendar, payload)
        changes = _calendar_fields(p, ids, op_ref)
        return await self._patch(p.plan_link, "calendar", p.entry_link, changes, ids, op_ref)

    async def _append_log(self, payload: Payload, ids: Mapping[str, str], op_ref: str) -> Result:
        p = _as(AppendLog, payload)
        body = {
            "text": p.text,
            "authorName": p.author_name,
            "occurredAt": _moment(p.occurred_at),
            "externalReference": p.external_reference,
        }
        return await self._create(p.plan_link, "log", body, ids, op_ref)

    # --- shared steps -----------------------------------------------------------------

    async def _create(
        self,
        plan_link: str,
        collection: str,
        body: Mapping[str, Any],
        ids: Mapping[str, str],
        op_ref: str,
    ) -> Result:
        plan_id = _id(ids, plan_link, op_ref)
        response = await self._send("POST", f"/plans/{plan_id}/{collection}", op_ref, json=body)
        self._raise(response, op_ref)
        return Result(remote_id=_created_id(response, "id", op_ref), status=response.status_code)

    async def _patch(
        self,
        plan_link: str,
        collection: str,
        item_link: str,
        changes: Mapping[str, Any],
        ids: Mapping[str, str],
        op_ref: str,
    ) -> Result:
        plan_id = _id(ids, plan_link, op_ref)
        item_id = _id(ids, item_link, op_ref)
        path = f"/plans/{plan_id}/{collection}/{item_id}"
        response = await self._send("PATCH", path, op_ref, json=changes)
        self._raise(response, op_ref)
        return Result(status=response.status_code)

    async def _plan(self, plan_id: str, op_ref: str) -> dict[str, Any]:
        response = await self._send("GET", f"/plans/{plan_id}", op_ref)
        self._raise(response, op_ref)
        return _json(response)

    async def _list(self, path: str, reference: str, op_ref: str) -> list[dict[str, Any]]:
        params = {"externalReference": reference, "limit": "500"}
        response = await self._send("GET", path, op_ref, params=params)
        self._raise(response, op_ref)
        items = _json(response).get("items")
        if not isinstance(items, list):
            return []
        return [i for i in items if isinstance(i, dict) and i.get("externalReference") == reference]

    async def _send(
        self,
        method: str,
        path: str,
        op_ref: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One request with the tenant's bearer token; on a 401 renew once and repeat once."""
        url = self._base + path
        response = await self._send_once(method, url, op_ref, json=json, params=params)
        if response.status_code != 401:
            return response
        log.info(
            "token refused; renewing once", op_ref=op_ref, endpoint=endpoint_of(response.request)
        )
        return await self._send_once(method, url, op_ref, json=json, params=params, renewed=True)

    async def _send_once(
        self,
        method: str,
        url: str,
        op_ref: str,
        *,
        json: Any,
        params: Mapping[str, str] | None,
        renewed: bool = False,
    ) -> httpx.Response:
        token = await self._tokens.token()
        request = self._http.build_request(
            method,
            url,
            json=json,
            params=params,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        try:
            response = await self._http.send(request)
        except httpx.TransportError as exc:
            raise transport_error(
                exc, op_ref=op_ref, endpoint=endpoint_of(request), method=method
            ) from None
        if response.status_code == 401:
            self._tokens.invalidate(token)
            if renewed:
                raise PermanentError(
                    f"{method} {endpoint_of(request)} refused a fresh token (401) for tenant "
                    f"{self._tokens.tenant!r}; check the client's scope and tenant",
                    op_ref=op_ref,
                    endpoint=endpoint_of(request),
                    status=401,
                )
        return response

    def _raise(self, response: httpx.Response, op_ref: str) -> None:
        if response.status_code == 409 and problem_type(response) == "consent-required":
            raise PermanentError(
                f"{response.request.method} {endpoint_of(response.request)} answered 409 "
                "consent-required: no active consent covers the affiliation; the planner "
                f"should have held this operation until a consent arrived [{op_ref}]",
                op_ref=op_ref,
                endpoint=endpoint_of(response.request),
                status=409,
            )
        raise_for_outcome(
            response, op_ref=op_ref, retry_after_cap_s=self._retry_after_cap_s, now=self._clock()
        )


def _goal_fields(p: CreateGoal | UpdateGoal, ids: Mapping[str, str], op_ref: str) -> dict[str, Any]:
    return _compact(
        {
            "title": p.title,
            "description": p.description,
            "targetDate": _day(p.target_date),
            "status": p.status,
            "evaluation": p.evaluation,
            "externalReference": getattr(p, "external_reference", None),
        }
    )


def _measure_fields(
    p: CreateMeasure | UpdateMeasure, ids: Mapping[str, str], op_ref: str
) -> dict[str, Any]:
    return _compact(
        {
            "goalId": _maybe_id(ids, p.goal_link, op_ref),
            "title": p.title,
            "arena": p.arena,
            "responsibleParticipantId": _maybe_id(ids, p.responsible_participant_link, op_ref),
            "responsibleAffiliationId": p.responsible_service,
            "startDate": _day(p.start_date),
            "endDate": _day(p.end_date),
            "status": p.status,
            "evaluation": p.evaluation,
            "externalReference": getattr(p, "external_reference", None),
        }
    )


def _responsibility_fields(
    p: CreateResponsibility | UpdateResponsibility, ids: Mapping[str, str], op_ref: str
) -> dict[str, Any]:
    participant = getattr(p, "participant_link", None)
    return _compact(
        {
            "participantId": _maybe_id(ids, participant, op_ref),
            "task": p.task,
            "dueDate": _day(p.due_date),
            "status": p.status,
            "externalReference": getattr(p, "external_reference", None),
        }
    )


def _calendar_fields(
    p: CreateCalendar | UpdateCalendar, ids: Mapping[str, str], op_ref: str
) -> dict[str, Any]:
    links: tuple[str, ...] | None = getattr(p, "participant_links", None)
    participants = None
    if links is not None:
        participants = [i for i in (_id(ids, link, op_ref) for link in links) if i != LEAD_LINK]
    return _compact(
        {
            "title": getattr(p, "title", None),
            "kind": getattr(p, "kind", None),
            "start": _moment(p.start),
            "end": _moment(p.end),
            "location": p.location,
            "participantIds": participants,
            "status": p.status,
            "externalReference": getattr(p, "external_reference", None),
        }
    )


_FIELDS: dict[OpKind, Callable[[Any, Mapping[str, str], str], dict[str, Any]]] = {
    OpKind.CREATE_GOAL: _goal_fields,
    OpKind.UPDATE_GOAL: _goal_fields,
    OpKind.CREATE_MEASURE: _measure_fields,
    OpKind.UPDATE_MEASURE: _measure_fields,
    OpKind.CREATE_RESPONSIBILITY: _responsibility_fields,
    OpKind.UPDATE_RESPONSIBILITY: _responsibility_fields,
    OpKind.CREATE_CALENDAR: _calendar_fields,
    OpKind.UPDATE_CALENDAR: _calendar_fields,
}


def item_fields(kind: OpKind, payload: Payload, ids: Mapping[str, str]) -> dict[str, Any]:
    """The wire fields a create or update of a goal, measure, responsibility or calendar
    entry sends (absent optional fields left out): what resync compares with the remote item.

    Raises `PermanentError` when a link it names has no id in `ids`.
    """
    build = _FIELDS.get(kind)
    if build is None:
        raise PermanentError(f"{kind.value} has no item fields")
    return build(payload, ids, "resync")


def person_fields(person: PersonRef) -> dict[str, Any]:
    """A person (plan lead, main person) as the wire shows it."""
    return _person(person)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _created_id(response: httpx.Response, key: str, op_ref: str) -> str:
    """The new item's id from a create's answer; an unreadable answer is ambiguous."""
    value = _json(response).get(key)
    if isinstance(value, str | int) and str(value):
        return str(value)
    endpoint = endpoint_of(response.request)
    raise AmbiguousError(
        f"{response.request.method} {endpoint} answered {response.status_code} without "
        f"{key!r} [{op_ref}]",
        op_ref=op_ref,
        endpoint=endpoint,
        status=response.status_code,
    )


def _plan_link(payload: Payload) -> str:
    link = getattr(payload, "plan_link", None)
    if not isinstance(link, str):
        raise PermanentError(f"payload {type(payload).__name__} names no plan")
    return link


def _external_reference(payload: Payload) -> str:
    reference = getattr(payload, "external_reference", None)
    if not isinstance(reference, str):
        raise PermanentError(f"payload {type(payload).__name__} has no external reference")
    return reference


def _family_links(family: Iterable[FamilyMember], plan: Mapping[str, Any]) -> dict[str, str]:
    """The guardians' (and child's) participant ids, matched by nin, else by name and role."""
    participants = [p for p in plan.get("participants") or [] if isinstance(p, dict)]
    links: dict[str, str] = {}
    taken: set[str] = set()
    for member in family:
        for p in participants:
            pid = str(p.get("id"))
            if pid in taken or p.get("roleId") != member.role:
                continue
            same = (
                p.get("nin") == member.nin
                if member.nin is not None
                else p.get("name") == member.name and p.get("nin") is None
            )
            if same:
                links[member.link] = pid
                taken.add(pid)
                break
    return links
