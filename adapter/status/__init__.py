"""The operators' status page (`GET /status`, `GET /status.json`) and its report."""

from __future__ import annotations

from adapter.status.page import COOKIE, status_router
from adapter.status.report import collect_report

__all__ = ["COOKIE", "collect_report", "status_router"]
