"""The doors (feed, push, file) and the inbox they all end in."""

from __future__ import annotations

from adapter.intake.inbox import CONFLICT_MESSAGE, EventSink, Inbox

__all__ = ["CONFLICT_MESSAGE", "EventSink", "Inbox"]
