"""Prometheus metrics of one stafett process, in a registry of its own (tests get a fresh one).

Counters count what happened in this process; gauges are refreshed from the store by the
scheduler's jobs, so every replica reports the shared truth. The standard `process_*` and
`python_*` collectors and `stafett_build_info` are registered too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from adapter import __version__

__all__ = ["Metrics"]


@dataclass
class Metrics:
    """The metric families of the contract's `GET /metrics`."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        ProcessCollector(registry=r)  # process_cpu_seconds, process_resident_memory_bytes…
        PlatformCollector(registry=r)  # python_info
        GCCollector(registry=r)  # python_gc_*
        self.build_info = Gauge(
            "stafett_build_info",
            "The running stafett's version (always 1)",
            ["version"],
            registry=r,
        )
        self.build_info.labels(__version__).set(1)
        self.push_requests = Counter(
            "stafett_push_requests",
            "Requests to the push door by HTTP status answered",
            ["status"],
            registry=r,
        )
        self.events = Gauge(
            "stafett_events", "Stored events by state", ["tenant", "state"], registry=r
        )
        self.operations = Gauge(
            "stafett_operations",
            "Operations by state and target",
            ["tenant", "target", "state"],
            registry=r,
        )
        self.remote_calls = Counter(
            "stafett_remote_calls",
            "Remote calls by target and outcome (HTTP status or error class)",
            ["target", "status"],
            registry=r,
        )
        self.retries = Counter(
            "stafett_retries", "Operations rescheduled after a failure", ["target"], registry=r
        )
        self.parks = Counter(
            "stafett_parks", "Operations parked after a permanent failure", ["target"], registry=r
        )
        self.queue_age = Gauge(
            "stafett_queue_oldest_pending_seconds",
            "Age of the oldest pending operation",
            registry=r,
        )
        self.queue_age_by_queue = Gauge(
            "stafett_queue_oldest_pending_by_target_seconds",
            "Age of the oldest open (pending, in flight, unknown) operation per tenant and "
            "target; 0 when none waits",
            ["tenant", "target"],
            registry=r,
        )
        self.last_poll = Gauge(
            "stafett_feed_last_success_timestamp_seconds",
            "Unix time of the last successful feed poll",
            ["tenant"],
            registry=r,
        )
        self.deadlines_overdue = Gauge(
            "stafett_deadlines_overdue_cases",
            "Cases whose next meeting is missing or later than the deadline",
            ["tenant"],
            registry=r,
        )
        self.drift = Gauge(
            "stafett_reconcile_drift_items",
            "Items found drifting by the last reconcile",
            ["tenant", "kind"],
            registry=r,
        )

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        return generate_latest(self.registry)
