"""After a create took effect remotely, any later failure of the same operation is ambiguous.

An operation may send more than one request: a plan create reads the plan back for the
guardians' participant ids, a transfer reads the new plan to adopt its copied items. Once
the create has been answered 2xx, the item exists; if a later request of the operation then
fails with an ordinary transient error, a plain retry would run the operation again from the
start and create the item a second time (the remote does not deduplicate). Inside
`after_create` every `RemoteError` therefore becomes an `AmbiguousError`: the in-call retry
never repeats one, and the dispatcher's next attempt looks the item up by its reference and
adopts it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from adapter.errors import AmbiguousError, RemoteError

__all__ = ["after_create"]


@contextmanager
def after_create(what: str, *, op_ref: str) -> Iterator[None]:
    """Mark the block as running after `what` (e.g. ``"POST /plans"``) took effect."""
    try:
        yield
    except AmbiguousError:
        raise
    except RemoteError as exc:
        raise AmbiguousError(
            f"{what} took effect, then a later step failed ({type(exc).__name__}: {exc}); "
            "the next attempt looks the item up before any create",
            op_ref=exc.op_ref or op_ref,
            endpoint=exc.endpoint,
            status=exc.status,
            retry_after=getattr(exc, "retry_after", None),
        ) from exc
