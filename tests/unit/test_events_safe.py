"""adapter.events.safe: only ids of the right form, never a nin or a name, are shown back."""

from __future__ import annotations

import pytest

from adapter.events.safe import (
    FIELD_MAX_LENGTH,
    HIDDEN,
    safe_event_id,
    safe_field,
    safe_item_id,
    safe_key,
    safe_sequence,
    safe_type,
)

CHILD_NIN = "14831651238"
EVENT_ID = "0b9f1c1e-5d7e-4d38-9a51-2f4f7f3c1a10"


def test_an_event_id_is_shown_only_when_it_is_a_uuid() -> None:
    """A UUID comes back canonical; a name, a nin or a non-string comes back as None."""
    assert safe_event_id(EVENT_ID.upper()) == EVENT_ID
    for bad in (f"Emma Haugen {CHILD_NIN}", CHILD_NIN, "", 7, None, "x" * 1000):
        assert safe_event_id(bad) is None


@pytest.mark.parametrize(
    "value",
    [
        CHILD_NIN,
        "148316 51238",
        "148316-51238",
        "148316.51238",
        f"BTI-{CHILD_NIN}",
        "Emma Haugen",
        "x" * 65,
        "",
        12345,
    ],
)
def test_a_tenant_or_case_id_that_could_hold_a_person_is_not_shown(value: object) -> None:
    """Ids outside the id pattern, and ids with a nin-shaped run of digits, are dropped."""
    assert safe_item_id(value) is None


def test_ordinary_ids_are_shown() -> None:
    """Case keys and tenant keys of the id form pass unchanged."""
    for value in ("BTI-2026-0042", "modum", "BS-2026-0007", "2026.00042_a"):
        assert safe_item_id(value) == value


def test_only_known_event_types_are_shown() -> None:
    """A type is shown only when it names an event type."""
    assert safe_type("goal.set") == "goal.set"
    assert safe_type("consent.expired") == "consent.expired"
    assert safe_type("Emma Haugen") is None
    assert safe_type(None) is None


def test_a_sequence_is_kept_only_when_the_store_can_hold_it() -> None:
    """Signed 64-bit integers pass; larger numbers, booleans and strings do not."""
    assert safe_sequence(7) == 7
    assert safe_sequence(2**63 - 1) == 2**63 - 1
    assert safe_sequence(10**20) is None
    assert safe_sequence(-(2**63) - 1) is None
    assert safe_sequence(True) is None
    assert safe_sequence("7") is None


def test_field_paths_hide_keys_that_do_not_look_like_field_names() -> None:
    """Field names and indexes stay; a name, a nin or an odd key becomes <hidden>."""
    assert safe_field("data.guardians.0.address") == "data.guardians.0.address"
    assert safe_field("<json>") == "<json>"
    assert safe_field(f"data.{CHILD_NIN}") == f"data.{HIDDEN}"
    assert safe_field("data.Emma Haugen") == f"data.{HIDDEN}"
    assert safe_key("x" * 300) == HIDDEN
    assert safe_key(3) == "3"
    assert safe_field(None) is None


def test_a_field_path_always_fits_its_column() -> None:
    """However deep the path, it is cut to the column's length."""
    deep = ".".join(["a" * 60] * 20)
    shown = safe_field(deep)
    assert shown is not None and len(shown) == FIELD_MAX_LENGTH
