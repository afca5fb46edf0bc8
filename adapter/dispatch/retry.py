"""The retry policy: short in-call retries and the persisted backoff. The only tenacity user.

Two layers (DESIGN.md, dispatcher):

- `in_call_retry` repeats a call a few times with short exponential waits and jitter, only
  for a `TransientError` that is not an `AmbiguousError` (an ambiguous failure goes back to
  the dispatcher, which looks the item up before any re-create). A `Retry-After` is
  honoured; one longer than `max_s` ends the retries at once and re-raises, so the
  dispatcher persists `next_attempt_at` instead of holding a worker slot.
- `next_attempt_delay` is the persisted backoff between dispatcher passes: exponential with
  full jitter, never below a (capped) `Retry-After`.

`set_testing(True)` makes in-call waits zero, like stamina's switch; tests may also pass
their own `sleep`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from adapter.errors import AmbiguousError, TransientError

__all__ = ["in_call_retry", "is_testing", "next_attempt_delay", "set_testing"]

T = TypeVar("T")

Sleep = Callable[[float], Awaitable[None]]

_MAX_EXPONENT = 62  # 2**62 s is far past any cap; keeps the float finite

_testing = False


def set_testing(on: bool) -> None:
    """Turn in-call waits off (True) or back on (False) for the whole process."""
    global _testing
    _testing = on


def is_testing() -> bool:
    """Whether in-call waits are switched off."""
    return _testing


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, TransientError) and not isinstance(exc, AmbiguousError)


def _retry_after_of(exc: BaseException | None) -> float | None:
    return exc.retry_after if isinstance(exc, TransientError) else None


def _failure(state: RetryCallState) -> BaseException | None:
    outcome = state.outcome
    return outcome.exception() if outcome is not None else None


_JITTER = random.Random()  # noqa: S311 - jitter, not cryptography
"""One generator for every call's jitter: seeding one per call costs a system call."""


async def in_call_retry(
    fn: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    base_s: float,
    max_s: float,
    sleep: Sleep | None = None,
    rng: random.Random | None = None,
) -> T:
    """Call `fn` up to `attempts` times while it raises a non-ambiguous `TransientError`.

    Waits `min(max_s, base_s * 2**(n-1) + U(0, base_s))` before try n+1, or the error's
    `retry_after` when longer. A `retry_after` over `max_s` stops at once. The last error
    is re-raised as it is (never a tenacity `RetryError`).

    The first try runs on its own and tenacity takes over from the second: nearly every
    call succeeds at once, and building the retry machinery for it cost as much interpreter
    time as the dispatcher's own bookkeeping (measured with py-spy at 16 calls in flight).
    """
    jitter = rng or _JITTER
    pause = sleep or asyncio.sleep

    def delay(tried: int, exc: BaseException | None) -> float:
        """The wait after try number `tried` failed with `exc`."""
        if _testing:
            return 0.0
        exponent = min(tried - 1, _MAX_EXPONENT)
        backoff = min(max_s, base_s * 2.0**exponent + jitter.uniform(0.0, base_s))
        after = _retry_after_of(exc)
        return backoff if after is None else max(backoff, after)

    def stops(tried: int, exc: BaseException | None) -> bool:
        """Whether no try follows try number `tried`, which failed with `exc`."""
        if tried >= attempts:
            return True
        after = _retry_after_of(exc)
        return after is not None and after > max_s

    try:
        return await fn()
    except Exception as exc:
        if not _retryable(exc) or stops(1, exc):
            raise
        first_wait = delay(1, exc)
    await pause(first_wait)
    # tenacity counts its own tries from 1: here they are the second and later ones
    retrying = AsyncRetrying(
        retry=retry_if_exception(_retryable),
        wait=lambda state: delay(state.attempt_number + 1, _failure(state)),
        stop=lambda state: stops(state.attempt_number + 1, _failure(state)),
        sleep=pause,
        reraise=True,
    )
    return await retrying(fn)


def next_attempt_delay(
    attempts: int,
    *,
    base_s: float,
    max_s: float,
    retry_after: float | None,
    cap_s: float,
    rng: random.Random,
) -> float:
    """Seconds until the next persisted attempt after `attempts` failed ones.

    Full jitter: uniform in `[0, min(max_s, base_s * 2**(attempts-1))]`; never below the
    remote's `retry_after` capped at `cap_s`.
    """
    exponent = min(max(attempts - 1, 0), _MAX_EXPONENT)
    ceiling = min(max_s, base_s * 2.0**exponent)
    delay = rng.uniform(0.0, ceiling)
    if retry_after is not None:
        delay = max(delay, min(max(retry_after, 0.0), cap_s))
    return delay
