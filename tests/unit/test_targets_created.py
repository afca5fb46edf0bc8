"""`after_create`: once a create took effect, a later failure is ambiguous, never retried as is."""

from __future__ import annotations

import pytest

from adapter.errors import AmbiguousError, PermanentError, TransientError
from adapter.targets.created import after_create


def test_a_transient_failure_after_a_create_becomes_ambiguous_and_keeps_retry_after() -> None:
    """A 429 on the read-back keeps its Retry-After but is no longer a plain retry."""
    with pytest.raises(AmbiguousError) as caught, after_create("POST /plans", op_ref="op:1"):
        raise TransientError("GET /plans/x answered 429", status=429, retry_after=3.0)
    error = caught.value
    assert (error.op_ref, error.status, error.retry_after) == ("op:1", 429, 3.0)
    assert "POST /plans took effect" in str(error)


def test_a_permanent_failure_after_a_create_is_ambiguous_so_the_item_is_looked_up() -> None:
    """Parking would lose the fact that the item exists; the next attempt must look it up."""
    with pytest.raises(AmbiguousError), after_create("POST /plans", op_ref="op:1"):
        raise PermanentError("GET /plans/x answered 404", status=404)


def test_an_ambiguous_failure_passes_unchanged_and_other_errors_are_not_touched() -> None:
    """Only remote errors are reclassified; a bug stays a bug."""
    original = AmbiguousError("reset")
    with pytest.raises(AmbiguousError) as caught, after_create("POST /plans", op_ref="op:1"):
        raise original
    assert caught.value is original
    with pytest.raises(KeyError), after_create("POST /plans", op_ref="op:1"):
        raise KeyError("x")
