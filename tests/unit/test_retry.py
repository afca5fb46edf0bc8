"""The retry policy: in-call retries (tenacity) and the persisted backoff."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from adapter.dispatch.retry import in_call_retry, is_testing, next_attempt_delay, set_testing
from adapter.errors import AmbiguousError, PermanentError, TransientError


class FakeSleep:
    """Records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Scripted:
    """A call that raises the scripted errors in turn, then returns "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


@pytest.fixture(autouse=True)
def _waits_on() -> Iterator[None]:
    """Each test starts with real (but faked-sleep) waits, and leaves the switch off."""
    set_testing(False)
    yield
    set_testing(False)


def _503() -> TransientError:
    return TransientError("GET /x answered 503", status=503)


async def test_two_503_then_success_makes_three_calls() -> None:
    """Two transient failures then a success: three calls, the success returned."""
    call, sleep = Scripted(_503(), _503()), FakeSleep()
    result = await in_call_retry(call, attempts=3, base_s=0.5, max_s=4.0, sleep=sleep)
    assert result == "ok"
    assert call.calls == 3
    assert len(sleep.waits) == 2


async def test_waits_grow_exponentially_with_jitter_and_stay_under_max() -> None:
    """Waits are base*2**(n-1) plus jitter up to base, never above max_s."""
    call, sleep = Scripted(_503(), _503(), _503()), FakeSleep()
    await in_call_retry(call, attempts=4, base_s=1.0, max_s=3.0, sleep=sleep, rng=random.Random(1))
    first, second, third = sleep.waits
    assert 1.0 <= first <= 2.0
    assert 2.0 <= second <= 3.0
    assert third == 3.0


async def test_gives_up_after_attempts_and_reraises_the_error() -> None:
    """When attempts run out the last TransientError itself is raised (no RetryError)."""
    last = _503()
    call = Scripted(_503(), _503(), last)
    with pytest.raises(TransientError) as caught:
        await in_call_retry(call, attempts=3, base_s=0.1, max_s=1.0, sleep=FakeSleep())
    assert caught.value is last
    assert call.calls == 3


async def test_ambiguous_is_not_retried_in_call() -> None:
    """An AmbiguousError goes straight back to the dispatcher after one call."""
    call, sleep = Scripted(AmbiguousError("POST /goals timed out")), FakeSleep()
    with pytest.raises(AmbiguousError):
        await in_call_retry(call, attempts=5, base_s=0.1, max_s=1.0, sleep=sleep)
    assert call.calls == 1
    assert sleep.waits == []


async def test_permanent_is_not_retried() -> None:
    """A PermanentError is raised after one call."""
    call = Scripted(PermanentError("422"))
    with pytest.raises(PermanentError):
        await in_call_retry(call, attempts=5, base_s=0.1, max_s=1.0, sleep=FakeSleep())
    assert call.calls == 1


async def test_retry_after_is_honoured_when_within_max() -> None:
    """A Retry-After longer than the backoff but within max_s is the wait."""
    call, sleep = Scripted(TransientError("429", status=429, retry_after=2.5)), FakeSleep()
    assert await in_call_retry(call, attempts=3, base_s=0.1, max_s=5.0, sleep=sleep) == "ok"
    assert sleep.waits == [2.5]


async def test_retry_after_over_max_stops_at_once() -> None:
    """A Retry-After over max_s re-raises without waiting, for the dispatcher to persist."""
    error = TransientError("429", status=429, retry_after=60.0)
    call, sleep = Scripted(error), FakeSleep()
    with pytest.raises(TransientError) as caught:
        await in_call_retry(call, attempts=5, base_s=0.1, max_s=5.0, sleep=sleep)
    assert caught.value is error
    assert call.calls == 1
    assert sleep.waits == []


async def test_testing_switch_makes_waits_zero() -> None:
    """With set_testing(True) every in-call wait is zero."""
    set_testing(True)
    assert is_testing()
    call, sleep = Scripted(_503(), TransientError("429", retry_after=3.0)), FakeSleep()
    assert await in_call_retry(call, attempts=3, base_s=10.0, max_s=50.0, sleep=sleep) == "ok"
    assert sleep.waits == [0.0, 0.0]


def test_next_attempt_delay_is_full_jitter_under_exponential_ceiling() -> None:
    """The persisted delay lies in [0, min(max, base*2**(attempts-1))]."""
    rng = random.Random(7)
    for attempts, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (10, 100.0), (500, 100.0)]:
        delays = [
            next_attempt_delay(
                attempts, base_s=2.0, max_s=100.0, retry_after=None, cap_s=900.0, rng=rng
            )
            for _ in range(200)
        ]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.5  # spread over the range, not a constant


def test_next_attempt_delay_honours_retry_after() -> None:
    """The delay is never below the remote's Retry-After."""
    delay = next_attempt_delay(
        1, base_s=1.0, max_s=10.0, retry_after=300.0, cap_s=900.0, rng=random.Random(0)
    )
    assert delay == 300.0


def test_next_attempt_delay_caps_retry_after() -> None:
    """A Retry-After beyond the cap is cut to the cap."""
    delay = next_attempt_delay(
        1, base_s=1.0, max_s=10.0, retry_after=86_400.0, cap_s=900.0, rng=random.Random(0)
    )
    assert delay == 900.0


async def test_a_first_try_that_succeeds_makes_one_call_and_never_waits() -> None:
    call, sleep = Scripted(), FakeSleep()
    assert await in_call_retry(call, attempts=3, base_s=0.5, max_s=4.0, sleep=sleep) == "ok"
    assert (call.calls, sleep.waits) == (1, [])


async def test_one_attempt_means_no_retry_even_for_a_transient_error() -> None:
    call, sleep = Scripted(_503()), FakeSleep()
    with pytest.raises(TransientError):
        await in_call_retry(call, attempts=1, base_s=0.5, max_s=4.0, sleep=sleep)
    assert (call.calls, sleep.waits) == (1, [])


async def test_a_retry_after_on_a_later_try_is_honoured_like_on_the_first() -> None:
    later = TransientError("429", status=429, retry_after=2.5)
    call, sleep = Scripted(_503(), later), FakeSleep()
    assert await in_call_retry(call, attempts=3, base_s=0.1, max_s=5.0, sleep=sleep) == "ok"
    assert call.calls == 3
    assert 0.1 <= sleep.waits[0] < 0.2
    assert sleep.waits[1] == 2.5
