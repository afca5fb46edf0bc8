"""The wiring of one stafett process: the `Runtime` (settings, store, HTTP, target clients,
metrics), the target clients per tenant, the planner's rules per tenant, and the closing
summary source. Built once per process (service, `run --once`, demo)."""

__all__: list[str] = []
