"""Calendar months as first days (``dt.date(2025, 3, 1)`` is March 2025), shared by every app.

The rules count in months (R-10 monthly meetings, R-30 reports "monthly, at most quarterly", R-31
monthly dues), so month arithmetic lives in one place; ``meetings.rules`` re-exports these names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

# No loop over months goes further than a century of months.
MAX_MONTHS = 1200


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """First day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + (day.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of every month from ``first``'s month to ``last``'s month, inclusive (bounded)."""
    result = []
    current = month_start(first)
    end = month_start(last)
    for _ in range(MAX_MONTHS):
        if current > end:
            break
        result.append(current)
        current = add_months(current, 1)
    return result


def block_start(month: dt.date, size: int) -> dt.date:
    """First month of the calendar-aligned block of ``size`` months holding ``month`` (3: quarters)."""
    size = max(1, size)
    index = month.year * 12 + month.month - 1
    index -= index % size
    return dt.date(index // 12, index % 12 + 1, 1)


def month_label(month: dt.date) -> str:
    return f"{month.year}年{month.month}月"


def month_ranges_label(months: Iterable[dt.date]) -> str:
    """Months as short Chinese ranges: 2024年1月至3月、2024年6月、2024年11月至2025年2月."""
    ordered = sorted(set(months))
    runs: list[tuple[dt.date, dt.date]] = []
    for month in ordered:
        if runs and add_months(runs[-1][1], 1) == month:
            runs[-1] = (runs[-1][0], month)
        else:
            runs.append((month, month))
    parts = []
    for first, last in runs:
        if first == last:
            parts.append(month_label(first))
        elif first.year == last.year:
            parts.append(f"{month_label(first)}至{last.month}月")
        else:
            parts.append(f"{month_label(first)}至{month_label(last)}")
    return "、".join(parts)
