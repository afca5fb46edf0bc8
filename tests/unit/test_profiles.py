"""The seed municipalities' BTI profiles (domain.md)."""

from __future__ import annotations

import pytest

from adapter.profiles import PROFILES, get_profile


def test_modum_creates_the_plan_at_level_two_step_two() -> None:
    """Modum: 5/4/6/4 steps per level; the stafettlogg at 2/2 «Opprett Stafettlogg»."""
    modum = get_profile("modum")
    assert [len(modum.levels[level]) for level in range(4)] == [5, 4, 6, 4]
    assert modum.create_plan_at == (2, 2)
    assert modum.step_name(2, 2) == "Opprett Stafettlogg"


def test_vardo_creates_the_plan_at_level_one_step_one() -> None:
    """Vardø: 4 steps on every level; the stafettlogg at 1/1 «Samtykke til stafettlogg»."""
    vardo = get_profile("vardo")
    assert [len(vardo.levels[level]) for level in range(4)] == [4, 4, 4, 4]
    assert vardo.create_plan_at == (1, 1)
    assert vardo.step_name(1, 1) == "Samtykke til stafettlogg"


@pytest.mark.parametrize(
    ("level", "step", "past"), [(1, 4, False), (2, 1, False), (2, 2, True), (3, 1, True)]
)
def test_plan_step_is_compared_as_a_pair(level: int, step: int, past: bool) -> None:
    """(level, step) is at or past create_plan_at by pair order, not by step alone."""
    assert get_profile("modum").at_or_past_plan_step(level, step) is past


def test_unknown_steps_and_profiles_are_refused() -> None:
    """A step outside the profile does not exist; an unknown profile names the known ones."""
    modum = PROFILES["modum"]
    assert not modum.has_step(1, 5)
    assert not modum.has_step(4, 1)
    with pytest.raises(KeyError):
        modum.step_name(0, 6)
    with pytest.raises(KeyError, match="modum"):
        get_profile("drammen")
