"""Tests of partygroup/months.py: month arithmetic of the cadence (R-10) and duty (R-30, R-31) rules."""

from __future__ import annotations

import datetime as dt

from meetings import rules as meeting_rules
from partygroup import months

D = dt.date


def test_add_months_crosses_years_both_ways():
    assert months.add_months(D(2024, 11, 30), 2) == D(2025, 1, 1)
    assert months.add_months(D(2025, 1, 31), -1) == D(2024, 12, 1)
    assert months.add_months(D(2025, 3, 15), 0) == D(2025, 3, 1)


def test_months_between_is_inclusive_and_empty_when_reversed():
    assert months.months_between(D(2024, 11, 20), D(2025, 2, 1)) == [
        D(2024, 11, 1),
        D(2024, 12, 1),
        D(2025, 1, 1),
        D(2025, 2, 1),
    ]
    assert months.months_between(D(2025, 2, 1), D(2025, 1, 31)) == []


def test_block_start_aligns_to_calendar_blocks():
    assert [months.block_start(D(2025, m, 9), 3) for m in (1, 3, 4, 12)] == [
        D(2025, 1, 1),
        D(2025, 1, 1),
        D(2025, 4, 1),
        D(2025, 10, 1),
    ]
    assert months.block_start(D(2025, 8, 1), 6) == D(2025, 7, 1)
    assert months.block_start(D(2025, 8, 1), 0) == D(2025, 8, 1)


def test_month_ranges_label_compresses_runs():
    listed = [D(2025, 2, 1), D(2024, 11, 1), D(2024, 12, 1), D(2025, 4, 1), D(2025, 2, 1)]
    assert months.month_ranges_label(listed) == "2024年11月至12月、2025年2月、2025年4月"
    assert months.month_ranges_label([D(2024, 12, 1), D(2025, 1, 1)]) == "2024年12月至2025年1月"
    assert months.month_ranges_label([]) == ""


def test_meetings_rules_use_the_shared_month_arithmetic():
    assert meeting_rules.add_months is months.add_months
    assert meeting_rules.month_start is months.month_start
    assert meeting_rules.months_between is months.months_between
