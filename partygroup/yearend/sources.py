"""The annual work report of ``meetings`` (R-34) as the export uses it — the one place it is imported.

``annual_report_data_many(groups, year, *, as_of, findings)`` gives every group's figures in a fixed
number of queries; ``annual_report_pdf(group, year, *, data)`` renders one group's report. The
workbook and the bundle call them through this module (``sources.annual_report_pdf(...)``), so a
test can replace them in one place.
"""

from __future__ import annotations

import datetime as dt

from meetings.annual_report import annual_report_data_many, annual_report_pdf

__all__ = ["annual_report_data_many", "annual_report_pdf", "findings_day"]


def findings_day(as_of: dt.date) -> dt.date:
    """The day findings are collected for an export whose figures run up to ``as_of``: the end of
    that day (1 January of the next year for a finished year, as the annual report does)."""
    return as_of + dt.timedelta(days=1)
