"""The engine's jobs: each one piece of periodic work behind one `Job` protocol (`job`), run
by the service's scheduler as a tick and by `run --once` (`once`).

`feed_poll` (poll), `plan_step` (plan), `dispatch`, `reconcile`, `deadlines`, `expiry`,
`retention`; `catalog.service_jobs` lists them in the scheduler's order.
"""

__all__: list[str] = []
