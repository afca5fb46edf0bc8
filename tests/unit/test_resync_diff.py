"""The pure resync diff: desired operations, outbox rows, links and remote state → findings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapter.planning import Operation, OpKind, Target
from adapter.planning.payloads import (
    AppendLog,
    CreateDocument,
    CreateGoal,
    CreatePlan,
    DocumentSource,
    EnsureArchiveCase,
    Payload,
    PersonRef,
    TransferPlan,
    UpdateGoal,
)
from adapter.resync.diff import Action, diff_case, same
from adapter.resync.remote import RemoteArchive, RemoteCase, RemoteItem, RemotePlan, read_case
from adapter.store.records import CaseKey, StoredOperation
from adapter.store.states import OperationState
from adapter.targets.samspill import SamspillClient

T, C = "modum", "BTI-1"
PREFIX = f"stafett:{T}:{C}"
NOW = datetime(2026, 3, 1, tzinfo=UTC)
NIN = "01810112345"
LEAD = PersonRef(name="Lise Lærer", nin=None)


def _op(kind: OpKind, ref: str, payload: Payload, link: str | None = None) -> Operation:
    target = (
        Target.P360 if kind in (OpKind.ENSURE_CASE, OpKind.CREATE_DOCUMENT) else Target.SAMSPILL
    )
    return Operation(
        op_ref=f"{PREFIX}:{ref}",
        tenant=T,
        case_id=C,
        target=target,
        kind=kind,
        link=link,
        payload=payload.model_dump(mode="json"),
    )


PLAN = _op(
    OpKind.CREATE_PLAN,
    "plan:stafettlogg",
    CreatePlan(
        organization_number="123456785",
        main_person=PersonRef(name="Barn Barnesen", nin=NIN),
        lead=LEAD,
        affiliation="skole",
        external_reference=f"{PREFIX}:plan:stafettlogg",
    ),
    "plan:stafettlogg",
)
GOAL = _op(
    OpKind.CREATE_GOAL,
    "goal:G1",
    CreateGoal(
        plan_link="plan:stafettlogg", title="Trives", external_reference=f"{PREFIX}:goal:G1"
    ),
    "goal:G1",
)
GOAL_DONE = _op(
    OpKind.UPDATE_GOAL,
    "goal:G1#7",
    UpdateGoal(plan_link="plan:stafettlogg", goal_link="goal:G1", status="achieved"),
)
LOG = _op(
    OpKind.APPEND_LOG,
    "log:N1",
    AppendLog(
        plan_link="plan:stafettlogg",
        text="Notat",
        author_name="Lise Lærer",
        occurred_at=NOW,
        external_reference=f"{PREFIX}:log:N1",
    ),
    "log:N1",
)
CASE = _op(
    OpKind.ENSURE_CASE,
    "archive-case:main",
    EnsureArchiveCase(
        external_id=f"{T}:{C}",
        external_system="BTI",
        title="Tverrfaglig samarbeid – BTI",
        unofficial_title="x",
        child_nin=NIN,
    ),
    "archive-case:main",
)
DOC = _op(
    OpKind.CREATE_DOCUMENT,
    "minutes:M1",
    CreateDocument(
        case_link="archive-case:main",
        title="Referat",
        unofficial_title="Referat",
        category="112",
        document_date=NOW,
        source=DocumentSource(
            content_base64="JVBERg==", filename="m.pdf", media_type="application/pdf"
        ),
    ),
    "minutes:M1",
)
OPS = (CASE, DOC, PLAN, GOAL, GOAL_DONE, LOG)


def _rows(
    ops: tuple[Operation, ...], state: OperationState = OperationState.DONE
) -> dict[str, StoredOperation]:
    return {
        op.op_ref: StoredOperation(
            id=i,
            op_ref=op.op_ref,
            tenant=T,
            case_id=C,
            target=op.target,
            kind=op.kind.value,
            link=op.link,
            payload="{}",
            waits_for=None,
            cause_sequence=None,
            state=state,
            attempts=1,
            next_attempt_at=None,
            lease_owner=None,
            leased_until=None,
            may_exist=False,
            last_error=None,
            last_status=None,
            remote_id=None,
            created_at=NOW,
            updated_at=NOW,
            done_at=NOW,
        )
        for i, op in enumerate(ops, start=1)
    }


LINKS = {
    (Target.SAMSPILL, "plan:stafettlogg"): "P1",
    (Target.SAMSPILL, "goal:G1"): "g1",
    (Target.SAMSPILL, "log:N1"): "l1",
    (Target.P360, "archive-case:main"): "2026/00001",
    (Target.P360, "minutes:M1"): "2026/00001-1",
}


def _goal(**fields: Any) -> RemoteItem:
    base = {"title": "Trives", "status": "achieved", "externalReference": f"{PREFIX}:goal:G1"}
    base.update(fields)
    return RemoteItem(
        id=str(base.pop("id", "g1")), reference=base["externalReference"], fields=base
    )


def _remote(
    *goals: RemoteItem, closed: bool = False, log: bool = True, documents: bool = True
) -> RemoteCase:
    log_items = (RemoteItem("l1", f"{PREFIX}:log:N1", {"text": "Notat"}),) if log else ()
    plan = RemotePlan(
        plan_id="P1",
        closed=closed,
        lead={"name": LEAD.name},
        reference=f"{PREFIX}:plan:stafettlogg",
        items={"goals": goals, "log": log_items},
    )
    docs = {DOC.op_ref: ("2026/00001-1",)} if documents else {}
    return RemoteCase(
        plans={"plan:stafettlogg": plan},
        archive=RemoteArchive(case_number="2026/00001", closed=False, documents=docs),
        archive_read=True,
    )


def _by_item(remote: RemoteCase, rows: dict[str, StoredOperation] | None = None) -> dict[str, Any]:
    diff = diff_case(T, C, OPS, rows if rows is not None else _rows(OPS), LINKS, remote)
    return {f.item: f for f in diff.findings}


def test_everything_in_place_is_unchanged() -> None:
    """Equal items, present log and document: only `unchanged` findings."""
    found = _by_item(_remote(_goal()))
    assert {f.action for f in found.values()} == {Action.UNCHANGED}
    assert set(found) == {
        "plan:stafettlogg",
        "goal:G1",
        "log:N1",
        "archive-case:main",
        "minutes:M1",
    }


def test_a_missing_plan_replays_every_done_samspill_operation_in_order() -> None:
    """No plan remotely: every Samspill row is requeued in order; the archive is untouched."""
    remote = _remote(_goal())
    remote.plans["plan:stafettlogg"] = None
    diff = diff_case(T, C, OPS, _rows(OPS), LINKS, remote)
    replayed = [f for f in diff.findings if f.requeue]
    assert [f.requeue for f in replayed] == [(3,), (4,), (5,), (6,)]
    assert [f.action for f in replayed] == [
        Action.CREATE,
        Action.CREATE,
        Action.UPDATE,
        Action.CREATE,
    ]
    assert all(f.target is Target.SAMSPILL for f in replayed)


def test_a_missing_item_on_an_open_plan_requeues_its_create_and_its_updates() -> None:
    """The goal is gone: its create and its later update run again (same op_refs)."""
    found = _by_item(_remote())
    goal = found["goal:G1"]
    assert goal.action is Action.CREATE and goal.problem == "missing remotely"
    assert goal.requeue == (4, 5)


def test_an_unlinked_item_found_by_reference_is_adopted() -> None:
    """The goal exists under another id: the link is put, nothing is created."""
    found = _by_item(_remote(_goal(id="other")))
    assert found["goal:G1"].action is Action.ADOPT
    assert (found["goal:G1"].link, found["goal:G1"].remote_id) == ("goal:G1", "other")


def test_a_changed_goal_gets_one_correcting_update() -> None:
    """A title changed remotely: an update-goal #resync-1 with the desired fields is enqueued."""
    found = _by_item(_remote(_goal(title="Endret")))
    goal = found["goal:G1"]
    assert goal.action is Action.UPDATE and goal.problem == "different: title"
    (op,) = goal.insert
    assert op.kind is OpKind.UPDATE_GOAL and op.op_ref == f"{PREFIX}:goal:G1#resync-1"
    assert op.payload["title"] == "Trives" and op.payload["status"] == "achieved"
    assert op.payload["goal_link"] == "goal:G1"


def test_differences_on_a_closed_plan_are_reported_not_rewritten() -> None:
    """Closed plan: a changed goal and a missing goal are reported, nothing is enqueued."""
    found = _by_item(_remote(_goal(title="Endret"), closed=True))
    assert found["goal:G1"].action is Action.REPORT and not found["goal:G1"].insert
    assert found["plan:stafettlogg"].problem == "closed remotely but open here"
    missing = _by_item(_remote(closed=True))["goal:G1"]
    assert missing.action is Action.REPORT and missing.requeue == ()


def test_an_unknown_item_with_our_reference_is_reported() -> None:
    """A remote goal carrying a reference of this case that nothing planned is reported."""
    stray = _goal(id="x", externalReference=f"{PREFIX}:goal:G9")
    found = _by_item(_remote(_goal(), stray))
    (finding,) = [f for f in found.values() if f.problem and "unknown" in f.problem]
    assert finding.action is Action.REPORT and finding.item.endswith(":x")


def test_operations_under_way_are_left_to_the_dispatcher() -> None:
    """Pending rows: no finding at all for their items (the dispatcher owns them)."""
    assert _by_item(_remote(), _rows(OPS, OperationState.PENDING)) == {}


def test_a_missing_document_is_recreated_unless_the_archive_case_is_closed() -> None:
    """Open archive case: the document's create is requeued; closed: it is reported."""
    remote = _remote(_goal(), documents=False)
    assert _by_item(remote)["minutes:M1"].requeue == (2,)
    assert remote.archive is not None
    remote.archive = RemoteArchive(case_number="2026/00001", closed=True, documents={})
    found = _by_item(remote)
    assert found["minutes:M1"].action is Action.REPORT
    assert found["archive-case:main"].problem == "closed remotely but open here"


def test_values_compare_as_dates_and_moments_and_lists_in_any_order() -> None:
    """`same`: an offset moment equals its UTC form; list order does not matter."""
    assert same("2026-03-01T10:00:00+01:00", "2026-03-01T09:00:00Z")
    assert same(["b", "a"], ["a", "b"])
    assert not same("2026-03-01", "2026-03-02")


def test_a_linked_id_that_now_names_another_item_is_not_taken_for_ours() -> None:
    """Ids reused after a wipe: the linked id carries another reference, so ours is missing."""
    found = _by_item(_remote(_goal(externalReference=f"{PREFIX}:goal:G9")))
    assert found["goal:G1"].action is Action.CREATE
    assert any(f.problem and "unknown" in f.problem for f in found.values())


class _Plans(SamspillClient):
    """A Samspill client whose reads answer from a dict (no HTTP)."""

    def __init__(self, plans: dict[str, dict[str, Any]]) -> None:
        self.plans = plans

    async def get_plan(self, plan_id: str, *, op_ref: str) -> dict[str, Any] | None:
        return self.plans.get(plan_id)

    async def find_plans(self, external_reference: str, *, op_ref: str) -> list[dict[str, Any]]:
        return [p for p in self.plans.values() if p["externalReference"] == external_reference]


async def test_a_linked_plan_of_another_case_is_passed_over_for_ours_by_reference() -> None:
    """The plan link's id names another case's plan: ours is found by its reference."""
    ours = {"planId": "P2", "status": "active", "externalReference": f"{PREFIX}:plan:stafettlogg"}
    other = {"planId": "P1", "status": "active", "externalReference": "stafett:modum:X:plan:x"}
    client = _Plans({"P1": other, "P2": ours})
    remote = await read_case(CaseKey(tenant=T, case_id=C), OPS, LINKS, client, None)
    plan = remote.plans["plan:stafettlogg"]
    assert plan is not None and plan.plan_id == "P2"
    client.plans.pop("P2")
    assert (await read_case(CaseKey(tenant=T, case_id=C), OPS, LINKS, client, None)).plans == {
        "plan:stafettlogg": None
    }


TRANSFER = _op(
    OpKind.TRANSFER_PLAN,
    "plan:ip",
    TransferPlan(
        plan_link="plan:stafettlogg",
        coordinator=PersonRef(name="Kari Koordinator", nin=None),
        external_reference=f"{PREFIX}:plan:ip",
    ),
    "plan:ip",
)
IP_GOAL = _op(
    OpKind.CREATE_GOAL,
    "goal:G2",
    CreateGoal(plan_link="plan:ip", title="Mestrer", external_reference=f"{PREFIX}:goal:G2"),
    "ip/goal:G2",
)
IP_OPS = (*OPS, TRANSFER, IP_GOAL)
IP_LINKS = {**LINKS, (Target.SAMSPILL, "plan:ip"): "P2", (Target.SAMSPILL, "ip/goal:G2"): "g2"}


def _ip_remote(*, stafettlogg: bool = True, ip: bool = True, reopened: bool = False) -> RemoteCase:
    remote = _remote(_goal(), closed=not reopened)
    source = remote.plans["plan:stafettlogg"]
    assert source is not None
    remote.plans["plan:stafettlogg"] = (
        RemotePlan(
            plan_id="P1",
            closed=not reopened,
            lead=source.lead,
            reference=source.reference,
            items=source.items,
            transferred_to=None if reopened else "P2",
        )
        if stafettlogg
        else None
    )
    goal = RemoteItem("g2", f"{PREFIX}:goal:G2", {"title": "Mestrer", "status": "active"})
    remote.plans["plan:ip"] = (
        RemotePlan(
            plan_id="P2",
            closed=False,
            lead={"name": "Kari Koordinator"},
            reference=f"{PREFIX}:plan:ip",
            items={"goals": (goal,)},
        )
        if ip
        else None
    )
    return remote


def _ip_diff(remote: RemoteCase, ops: tuple[Operation, ...] = IP_OPS) -> dict[str, Any]:
    rows = {ref: row for ref, row in _rows(IP_OPS).items() if ref in {o.op_ref for o in ops}}
    diff = diff_case(T, C, IP_OPS, rows, IP_LINKS, remote)
    return {f.item: f for f in diff.findings}


def test_a_missing_stafettlogg_whose_ip_exists_is_reported_and_nothing_is_requeued() -> None:
    """Closed by its transfer: reported; nothing of it or of the transfer runs again."""
    found = _ip_diff(_ip_remote(stafettlogg=False))
    assert found["plan:stafettlogg"].action is Action.REPORT
    assert all(not f.requeue and not f.insert for f in found.values())
    assert found["plan:ip"].action is Action.UNCHANGED
    assert found["ip/goal:G2"].action is Action.UNCHANGED


def test_a_missing_ip_replays_the_transfer_and_its_own_items_only_from_an_open_stafettlogg() -> (
    None
):
    """Open, untransferred source: the transfer and the IP's goal are requeued, nothing of
    the stafettlogg; a closed source reports the IP instead."""
    reopened = _ip_diff(_ip_remote(ip=False, reopened=True))
    rows = _rows(IP_OPS)
    requeued = sorted(i for f in reopened.values() for i in f.requeue)
    assert requeued == [rows[TRANSFER.op_ref].id, rows[IP_GOAL.op_ref].id]
    assert reopened["plan:stafettlogg"].action is Action.UNCHANGED  # the transfer closes it
    closed = _ip_diff(_ip_remote(ip=False))
    assert closed["plan:ip"].action is Action.REPORT
    assert all(not f.requeue for f in closed.values())


def test_operations_never_queued_are_inserted_in_order_or_reported_after_the_end() -> None:
    """The IP goal (and a goal update on the closed stafettlogg) never reached the outbox:
    the missing IP goal is inserted to be created; the update is reported (plan closed)."""
    remote = _ip_remote()
    ip = remote.plans["plan:ip"]
    assert ip is not None
    remote.plans["plan:ip"] = RemotePlan(ip.plan_id, False, ip.lead, ip.reference, {"goals": ()})
    found = _ip_diff(remote, tuple(o for o in IP_OPS if o not in (IP_GOAL, GOAL_DONE)))
    assert found["ip/goal:G2"].action is Action.CREATE
    assert found["ip/goal:G2"].insert == (IP_GOAL,)
    assert found["goal:G1"].action is Action.REPORT
    assert found["goal:G1"].problem == "not in the outbox (its plan is closed here)"


async def test_an_ip_linked_or_found_through_its_stafettlogg_is_ours_whatever_its_reference() -> (
    None
):
    """After a 409 adoption the IP carries another reference: it is ours when it names our
    stafettlogg as `transferredFromPlanId`, linked or not."""
    source = {
        "planId": "P1",
        "status": "closed",
        "externalReference": f"{PREFIX}:plan:stafettlogg",
        "transferredToPlanId": "P9",
    }
    made_elsewhere = {
        "planId": "P9",
        "status": "active",
        "externalReference": "elsewhere:ip-1",
        "transferredFromPlanId": "P1",
    }
    stranger = {**made_elsewhere, "planId": "P8", "transferredFromPlanId": "P7"}
    client = _Plans({"P1": source, "P9": made_elsewhere, "P8": stranger})
    key = CaseKey(tenant=T, case_id=C)
    linked = {**LINKS, (Target.SAMSPILL, "plan:ip"): "P9"}
    for links in (linked, LINKS):
        remote = await read_case(key, (PLAN, TRANSFER), links, client, None)
        ip = remote.plans["plan:ip"]
        assert ip is not None and ip.plan_id == "P9"
    wrong = {**LINKS, (Target.SAMSPILL, "plan:ip"): "P8"}
    client.plans["P1"] = {**source, "transferredToPlanId": None}
    assert (await read_case(key, (PLAN, TRANSFER), wrong, client, None)).plans["plan:ip"] is None
