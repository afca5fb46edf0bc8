"""Per-attempt memory: what a client may keep across the in-call retries of one attempt.

The dispatcher runs each attempt of an operation (its in-call retries included) inside
`attempt_scope()`. A client that prepares something costly before its request (the archive
client fetching and verifying a document) gets it through `once_per_attempt`, so a retried
request does not prepare it again, and nothing outlives the attempt. Outside a scope (a
client called directly) nothing is kept.

The scope is a context variable: each attempt runs in a task of its own, so attempts of
different operations never see each other's memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

__all__ = ["attempt_scope", "once_per_attempt"]

T = TypeVar("T")

_memory: ContextVar[dict[str, Any] | None] = ContextVar("stafett_attempt_memory", default=None)


@contextmanager
def attempt_scope() -> Iterator[None]:
    """Run one attempt of an operation with a fresh, empty memory."""
    token = _memory.set({})
    try:
        yield
    finally:
        _memory.reset(token)


async def once_per_attempt(key: str, make: Callable[[], Awaitable[T]]) -> T:
    """`await make()` the first time `key` is asked for in this attempt; its value after.

    A `make` that raises keeps nothing, so the next try prepares again.
    """
    memory = _memory.get()
    if memory is None:
        return await make()
    if key not in memory:
        memory[key] = await make()
    value: T = memory[key]
    return value
