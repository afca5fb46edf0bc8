"""Sequence order, gaps, duplicates, unopened and closed cases, state round trip, determinism."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from adapter.planning import CaseState, Outcome, replay
from tests.unit.planning.factory import (
    Stream,
    decisions_by_seq,
    rules_for,
    run,
    with_plan,
)


def _rich_stream() -> Stream:
    s = with_plan("modum")
    s.participant("P1", "ppt")
    s.goal("G1")
    s.meeting("M1", "2026-06-01T10:00:00+02:00", participants=("stafettholder", "P1"))
    s.held("M1")
    s.decision("continue")
    s.consent("C2", ["ppt"])
    s.add("goal.closed", {"goal_id": "G1", "outcome": "achieved"})
    s.add("case.closed", {"reason": "goals-achieved"})
    return s


def test_gap_holds_later_events_until_filled() -> None:
    """A missing sequence holds the later events; the missing one releases them in order."""
    s = with_plan("modum")
    s.goal("G1")
    s.goal("G2")
    events = s.events
    first = run(events[:3] + events[4:])
    assert decisions_by_seq(first)[5] == ("held", "waiting for sequence 4")
    assert first.state.last_sequence == 3
    second = run([events[3]], state=first.state)
    assert [(d.sequence, d.outcome) for d in second.decisions] == [
        (4, Outcome.APPLIED),
        (5, Outcome.APPLIED),
    ]
    assert second.state.last_sequence == 5
    assert second.state.held == ()


def test_already_planned_sequence_is_duplicate() -> None:
    """An event whose sequence was planned already is a DUPLICATE with no operation."""
    s = with_plan("modum")
    s.goal("G1")
    first = run(s.events)
    again = run(s.events[-1:], state=first.state)
    assert [(d.outcome, d.reason) for d in again.decisions] == [
        (Outcome.DUPLICATE, "sequence 4 already planned")
    ]
    assert again.operations == ()


def test_events_of_an_unopened_case_are_rejected() -> None:
    """Without case.opened at sequence 1 every event is rejected as 'case not opened'."""
    s = Stream("modum")
    s.goal("G1")
    s.open()
    decided = decisions_by_seq(run(s.events))
    assert decided == {1: ("rejected", "case not opened"), 2: ("rejected", "case not opened")}


def test_events_after_case_closed_are_rejected() -> None:
    """Any event after case.closed is rejected with 'case is closed'."""
    s = with_plan("modum")
    s.add("case.closed", {"reason": "guardian-request"})
    late = s.goal("G1")
    assert decisions_by_seq(run(s.events))[late.sequence] == ("rejected", "case is closed")


def test_state_round_trips_through_json() -> None:
    """The state, held events included, survives model_dump_json / model_validate_json."""
    s = with_plan("modum")
    s.participant("P1", "ppt")
    s.goal("G1")
    s.add("goal.updated", {"goal_id": "G1", "title": "x"})
    events = s.events
    result = run(events[:4] + events[5:])
    assert result.state.held
    restored = CaseState.model_validate_json(result.state.model_dump_json())
    assert restored == result.state
    assert run([events[4]], state=restored) == run([events[4]], state=result.state)


def test_replay_is_deterministic() -> None:
    """Replaying the same events twice gives identical operations and decisions."""
    events = _rich_stream().events
    first, second = replay(events, rules_for("modum")), replay(events, rules_for("modum"))
    assert first.operations == second.operations
    assert first.decisions == second.decisions
    assert len({op.op_ref for op in first.operations}) == len(first.operations)


def test_events_in_any_order_give_the_same_result() -> None:
    """The planner sorts a batch by sequence: reversed input plans like ordered input."""
    events = _rich_stream().events
    assert (
        replay(events[::-1], rules_for("modum")).operations
        == replay(events, rules_for("modum")).operations
    )


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=11), max_size=5))
def test_replay_equals_incremental_planning(cuts: list[int]) -> None:
    """Feeding the events in chunks gives the same operations and state as replay(all)."""
    events = _rich_stream().events
    rules = rules_for("modum")
    whole = replay(events, rules)
    bounds = [0, *sorted(set(cuts)), len(events)]
    state: CaseState | None = None
    operations = []
    for start, end in itertools.pairwise(bounds):
        if start >= end:
            continue
        result = run(events[start:end], state=state)
        state, operations = result.state, [*operations, *result.operations]
    assert tuple(operations) == whole.operations
    assert state == whole.state
