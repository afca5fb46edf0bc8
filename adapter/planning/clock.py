"""Oslo calendar helpers: every date rule is judged as a date in Europe/Oslo (events.md)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

__all__ = ["OSLO", "age_on", "oslo_date", "oslo_noon"]

OSLO = ZoneInfo("Europe/Oslo")


def oslo_date(moment: datetime) -> date:
    """The calendar date of an aware `moment` in Europe/Oslo."""
    return moment.astimezone(OSLO).date()


def oslo_noon(day: date) -> datetime:
    """12:00 Europe/Oslo on `day`, as an aware datetime."""
    return datetime.combine(day, time(12, 0), tzinfo=OSLO)


def age_on(born: date, day: date) -> int:
    """Whole years from `born` to `day` (a birthday counts on its own date)."""
    years = day.year - born.year
    if (day.month, day.day) < (born.month, born.day):
        years -= 1
    return years
