"""The deadline report over cases planned by the real planner into a real store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest

from adapter.jobs.deadlines import deadline_report, overdue_counts
from adapter.jobs.plan_step import plan_pending
from adapter.planning.clock import OSLO
from adapter.service import _Ticks
from adapter.settings import Settings
from adapter.store import Store
from adapter.wiring.rules import planning_rules
from adapter.wiring.runtime import Runtime
from tests.support.stored_events import demo_settings, store_events
from tests.unit.planning.factory import Stream, with_plan

DECIDED = date(2026, 3, 3)  # the deadlines of 28 and 42 days cross the DST change of 29 March


def _at(day: date, clock: time = time(10, 0)) -> str:
    return datetime.combine(day, clock, tzinfo=OSLO).isoformat()


@dataclass(frozen=True)
class Case:
    """One case of the table: a decision, then at most one meeting, maybe cancelled."""

    case_id: str
    outcome: str
    meeting_day: int | None = None
    meeting_clock: time = time(10, 0)
    cancelled: bool = False
    next_due_day: int | None = None
    then: str | None = None  # "close" (case.closed) or "stop" (a newer decision: close)

    def stream(self, tenant: str) -> Stream:
        s = with_plan(tenant, case_id=self.case_id)
        s.decision(
            self.outcome,
            next_due=None
            if self.next_due_day is None
            else str(DECIDED + timedelta(self.next_due_day)),
            at=_at(DECIDED),
        )
        if self.meeting_day is not None:
            s.meeting("M1", _at(DECIDED + timedelta(self.meeting_day), self.meeting_clock))
            if self.cancelled:
                s.add("meeting.cancelled", {"meeting_id": "M1"})
        if self.then == "close":
            s.add("case.closed", {"reason": "goals-achieved"})
        elif self.then == "stop":
            s.decision("close")
        return s


def table(follow: int, refer: int) -> list[Case]:
    """The boundary table for a tenant with these deadlines (days)."""
    return [
        Case("cont-before", "continue", follow - 1),
        Case("cont-on", "continue", follow, time(23, 30)),  # late evening, still the day
        Case("cont-after", "continue", follow + 1, time(0, 30)),  # just past midnight
        Case("cont-none", "continue"),
        Case("escalate-after", "escalate", follow + 1),
        Case("refer-before", "refer", refer - 1),
        Case("refer-on", "refer", refer),
        Case("refer-after", "refer", refer + 1),
        Case("refer-none", "refer"),
        Case("cont-cancelled", "continue", follow - 1, cancelled=True),
        Case("due-early", "continue", 11, next_due_day=10),
        Case("closed", "continue", then="close"),
        Case("stopped", "continue", then="stop"),
    ]


def expected(follow: int, refer: int, today: int) -> dict[str, tuple[int, int | None, int]]:
    """case -> (deadline day, meeting day or None, days over) of the listed cases on `today`."""
    rows: dict[str, tuple[int, int | None, int]] = {}

    def consider(case: str, deadline: int, meeting: int | None) -> None:
        if meeting is not None and meeting <= deadline:
            return
        if meeting is None and today <= deadline:
            return
        rows[case] = (deadline, meeting, max(0, today - deadline))

    consider("cont-after", follow, follow + 1)
    consider("cont-none", follow, None)
    consider("escalate-after", follow, follow + 1)
    consider("refer-after", refer, refer + 1)
    consider("refer-none", refer, None)
    consider("cont-cancelled", follow, None)
    consider("due-early", 10, 11)
    return rows


async def _plan_table(store: Store, settings: Settings, tenant: str) -> list[Case]:
    tenant_cfg = settings.tenants[tenant]
    cases = table(tenant_cfg.follow_up_days, tenant_cfg.referral_follow_up_days)
    for case in cases:
        await store_events(store, settings, case.stream(tenant).events)
    rules = {key: planning_rules(t) for key, t in settings.tenants.items()}
    report = await plan_pending(store, rules, lambda key: settings.tenants.get(key))
    assert report.events_rejected == 0 and report.events_held == 0
    return cases


SETUPS = [
    pytest.param("modum", {}, 28, 42, id="modum"),
    pytest.param("vardo", {}, 28, 42, id="vardo"),
    pytest.param(
        "modum",
        {"STAFETT_TENANTS__MODUM__FOLLOW_UP_DAYS": "14"},
        14,
        42,
        id="modum-follow-up-14",
    ),
]


@pytest.mark.parametrize(("tenant", "env", "follow", "refer"), SETUPS)
async def test_report_lists_exactly_the_late_and_missing_meetings_around_each_boundary(
    store: Store, sqlite_url: str, tenant: str, env: dict[str, str], follow: int, refer: int
) -> None:
    """Meetings on day F-1/F are on time, F+1 late (R for refer); days over follow `today`."""
    settings = demo_settings(sqlite_url, **env)
    assert settings.tenants[tenant].follow_up_days == follow
    await _plan_table(store, settings, tenant)
    for today in (follow - 1, follow, follow + 1, refer, refer + 1, refer + 30):
        rows = await deadline_report(store, DECIDED + timedelta(today), tenant=tenant)
        got = {
            r.case_id: (
                (r.deadline - DECIDED).days,
                None
                if r.next_meeting_at is None
                else (r.next_meeting_at.astimezone(OSLO).date() - DECIDED).days,
                r.days_over,
            )
            for r in rows
        }
        assert got == expected(follow, refer, today), f"today = day {today}"
        assert [r.days_over for r in rows] == sorted((r.days_over for r in rows), reverse=True)


async def test_report_keeps_tenants_apart_and_counts_them(store: Store, sqlite_url: str) -> None:
    """`--tenant` narrows the report; the per-tenant counts cover every configured tenant."""
    settings = demo_settings(sqlite_url, STAFETT_TENANTS__MODUM__FOLLOW_UP_DAYS="14")
    await _plan_table(store, settings, "modum")
    await _plan_table(store, settings, "vardo")
    today = DECIDED + timedelta(20)  # past Modum's 14 days, inside Vardø's 28
    everything = await deadline_report(store, today)
    modum = await deadline_report(store, today, tenant="modum")
    vardo = await deadline_report(store, today, tenant="vardo")
    assert {r.tenant for r in modum} == {"modum"}
    assert sorted(everything, key=repr) == sorted(modum + vardo, key=repr)
    assert {r.case_id for r in modum} == set(expected(14, 42, 20))
    assert {r.case_id for r in vardo} == set(expected(28, 42, 20))
    counts = overdue_counts(everything, ["modum", "vardo", "other"])
    assert counts == {"modum": len(modum), "vardo": len(vardo), "other": 0}


async def test_service_deadlines_tick_sets_the_overdue_gauge_per_tenant(
    store: Store, sqlite_url: str
) -> None:
    """The `deadlines` job records `stafett_deadlines_overdue_cases` per tenant on the Oslo date."""
    settings = demo_settings(sqlite_url)
    await _plan_table(store, settings, "modum")
    today = DECIDED + timedelta(29)
    rt = await Runtime.open(
        settings, store=store, clock=lambda: datetime.combine(today, time(1, 0), tzinfo=OSLO)
    )
    try:
        ticks = _Ticks(rt)
        assert "deadlines" in ticks.as_mapping()
        await ticks.as_mapping()["deadlines"]()
        gauge = "stafett_deadlines_overdue_cases"
        modum = rt.metrics.registry.get_sample_value(gauge, {"tenant": "modum"})
        vardo = rt.metrics.registry.get_sample_value(gauge, {"tenant": "vardo"})
    finally:
        await rt.http.aclose()
    assert modum == len(expected(28, 42, 29)) == 6
    assert vardo == 0


async def test_report_on_days_29_and_43_is_exactly_this_table(
    store: Store, sqlite_url: str
) -> None:
    """Written out, not derived: Modum's 28/42 days on the day after each deadline."""
    settings = demo_settings(sqlite_url)
    await _plan_table(store, settings, "modum")

    async def on(day: int) -> dict[str, tuple[int, int | None, int]]:
        rows = await deadline_report(store, DECIDED + timedelta(day), tenant="modum")
        return {
            r.case_id: (
                (r.deadline - DECIDED).days,
                None
                if r.next_meeting_at is None
                else (r.next_meeting_at.astimezone(OSLO).date() - DECIDED).days,
                r.days_over,
            )
            for r in rows
        }

    assert await on(29) == {
        "cont-after": (28, 29, 1),
        "cont-none": (28, None, 1),
        "escalate-after": (28, 29, 1),
        "cont-cancelled": (28, None, 1),
        "refer-after": (42, 43, 0),  # late for certain: listed before its day
        "due-early": (10, 11, 19),
    }
    assert await on(43) == {
        "cont-after": (28, 29, 15),
        "cont-none": (28, None, 15),
        "escalate-after": (28, 29, 15),
        "cont-cancelled": (28, None, 15),
        "refer-after": (42, 43, 1),
        "refer-none": (42, None, 1),
        "due-early": (10, 11, 33),
    }
