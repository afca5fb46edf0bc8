"""Tenant profiles: the BTI steps of a municipality's model and when a stafettlogg is made.

A profile names the steps of each level (0–3) and the `(level, step)` at which a
stafettlogg is created (`create_plan_at`, compared as a pair). The two seed
municipalities ship here; a tenant's config names its profile by key.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict

__all__ = ["PROFILES", "Profile", "get_profile"]

Step = tuple[int, int]


class Profile(BaseModel):
    """One municipality's BTI model: its steps per level and where the plan is created."""

    model_config = ConfigDict(frozen=True)

    key: str
    name: str
    levels: Mapping[int, tuple[str, ...]]
    create_plan_at: Step

    def has_step(self, level: int, step: int) -> bool:
        """True when `step` (1-based) exists on `level` of this profile."""
        names = self.levels.get(level)
        return names is not None and 1 <= step <= len(names)

    def step_name(self, level: int, step: int) -> str:
        """The profile's own name of a step; KeyError when it does not exist."""
        if not self.has_step(level, step):
            raise KeyError((level, step))
        return self.levels[level][step - 1]

    def at_or_past_plan_step(self, level: int, step: int) -> bool:
        """True when `(level, step)` is at or past `create_plan_at`, compared as a pair."""
        return (level, step) >= self.create_plan_at


_MODUM = Profile(
    key="modum",
    name="Modum (BTI)",
    levels={
        0: (
            "Undring oppstår",
            "Konkretiser undringen",
            "Del undringen med de det gjelder",
            "Grunn til videre oppfølging?",
            "Avslutt oppfølgingen",
        ),
        1: (
            "Skap felles forståelse",
            "Iverksett tiltak",
            "Oppfølgingssamtale",
            "Ressursteam",
        ),
        2: (
            "Etabler kontakt med annen tjeneste",
            "Opprett Stafettlogg",
            "Nettverksmøte",
            "Iverksett tiltak",
            "Nettverksmøte – oppfølging",
            "Nettverksmøte – beslutning om veien videre",
        ),
        3: (
            "Forberedelse til utvidet nettverksmøte",
            "Ta kontakt med fagpersoner",
            "Møtestruktur",
            "Beslutning om veien videre",
        ),
    },
    create_plan_at=(2, 2),
)

_VARDO = Profile(
    key="vardo",
    name="Vardø (Bedre sammen)",
    levels={
        0: (
            "Definer bekymringen",
            "Del bekymringen med lederen din",
            "Del bekymringen med foresatte/barnet",
            "Evalueringsmøte – beslutning",
        ),
        1: (
            "Samtykke til stafettlogg",
            "Skap felles forståelse og iverksette tiltak",
            "Evalueringsmøte – drøftingsdel",
            "Evalueringsmøte – beslutning",
        ),
        2: (
            "Samarbeidsmøte – oppstart",
            "Planlegge og iverksette tiltak",
            "Evalueringsmøte – drøftingsdel",
            "Beslutning",
        ),
        3: (
            "Første møte med aktuell instans",
            "Planlegge og iverksette tiltak",
            "Evalueringsmøte – drøftingsdel",
            "Beslutning om videre koordinert innsats",
        ),
    },
    create_plan_at=(1, 1),
)

PROFILES: Mapping[str, Profile] = MappingProxyType({p.key: p for p in (_MODUM, _VARDO)})


def get_profile(key: str) -> Profile:
    """The profile with this key; KeyError naming the known keys when there is none."""
    try:
        return PROFILES[key]
    except KeyError:
        raise KeyError(f"unknown profile {key!r}; known: {', '.join(sorted(PROFILES))}") from None
