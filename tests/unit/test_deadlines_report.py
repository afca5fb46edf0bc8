"""The pure deadline report: which planned cases are listed, their JSON, the Oslo date."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from adapter.jobs.deadlines import DeadlineRow, oslo_today, overdue_cases, overdue_counts
from adapter.planning import CaseState
from tests.unit.planning.factory import Stream, run, with_plan


def _state(stream: Stream) -> CaseState:
    return run(stream.events, stream.tenant).state


def _case(case_id: str, tenant: str = "modum", meeting: str | None = None) -> CaseState:
    s = with_plan(tenant, case_id=case_id)
    s.decision("continue", at="2026-05-04T09:00:00+02:00")  # deadline 2026-06-01
    if meeting is not None:
        s.meeting("M1", meeting)
    return _state(s)


def test_a_case_without_a_deadline_or_with_a_met_one_is_not_listed() -> None:
    """No decision, a `close` decision, or a meeting on the deadline: nothing to report."""
    plain = _state(with_plan("modum", case_id="BTI-A"))
    closing = with_plan("modum", case_id="BTI-B")
    closing.decision("close")
    met = _case("BTI-C", meeting="2026-06-01T23:59:00+02:00")
    assert overdue_cases([plain, _state(closing), met], date(2026, 7, 1)) == []


def test_rows_sort_by_days_over_then_case_and_carry_the_next_meeting() -> None:
    """The most overdue first; a late meeting is listed (0 days over) before its deadline."""
    late = _case("BTI-L", meeting="2026-06-02T08:00:00+02:00")
    missing = _case("BTI-M")
    vardo = _case("BS-V", tenant="vardo")
    assert overdue_cases([late, missing, vardo], date(2026, 5, 20)) == [
        DeadlineRow("modum", "BTI-L", date(2026, 6, 1), late.meetings["M1"].starts_at, 0)
    ]
    rows = overdue_cases([late, missing, vardo], date(2026, 6, 4))
    assert [(r.tenant, r.case_id, r.days_over) for r in rows] == [
        ("modum", "BTI-L", 3),
        ("modum", "BTI-M", 3),
        ("vardo", "BS-V", 3),
    ]
    assert overdue_counts(rows, ["modum", "vardo", "x"]) == {"modum": 2, "vardo": 1, "x": 0}


def test_json_row_has_the_contract_keys_and_iso_values() -> None:
    """`{"tenant", "case_id", "deadline", "next_meeting_at", "days_over"}` with ISO strings."""
    late = _case("BTI-L", meeting="2026-06-02T08:00:00+02:00")
    missing = _case("BTI-M")
    rows = overdue_cases([late, missing], date(2026, 6, 3))
    out = json.loads(json.dumps([r.as_json() for r in rows]))
    assert out == [
        {
            "tenant": "modum",
            "case_id": "BTI-L",
            "deadline": "2026-06-01",
            "next_meeting_at": "2026-06-02T08:00:00+02:00",
            "days_over": 2,
        },
        {
            "tenant": "modum",
            "case_id": "BTI-M",
            "deadline": "2026-06-01",
            "next_meeting_at": None,
            "days_over": 2,
        },
    ]


def test_today_is_the_oslo_date_not_the_utc_date() -> None:
    """22:30 UTC on 31 May is 1 June in Oslo (summer time); 21:59 UTC is still 31 May."""
    assert oslo_today(lambda: datetime(2026, 5, 31, 22, 30, tzinfo=UTC)) == date(2026, 6, 1)
    assert oslo_today(lambda: datetime(2026, 5, 31, 21, 59, tzinfo=UTC)) == date(2026, 5, 31)
